//! TLS for `ssl:` remotes: mutual TLS with rustls (ring) and a verifier that checks
//! the server's certificate chain against the CA but not its name (OVS
//! certificates made by `ovs-pki` never name an IP address).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

use crate::Error;

/// PEM files for mutual TLS, as `ovs-pki` makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate(s) the server's chain must lead to.
    pub ca_cert: PathBuf,
    /// Our certificate (chain).
    pub certificate: PathBuf,
    /// Our private key.
    pub private_key: PathBuf,
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Tls(format!("{what}: {e}"))
}

impl TlsFiles {
    /// Builds a connector (files are read on every call, so renewed certificates
    /// are picked up on reconnect).
    pub fn connector(&self) -> Result<TlsConnector, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(&self.ca_cert)
            .map_err(|e| tls_err("CA certificate", e))?
        {
            roots
                .add(c.map_err(|e| tls_err("CA certificate", e))?)
                .map_err(|e| tls_err("CA certificate", e))?;
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| tls_err("verifier", e))?;
        let certs = CertificateDer::pem_file_iter(&self.certificate)
            .map_err(|e| tls_err("certificate", e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls_err("certificate", e))?;
        let key = PrivateKeyDer::from_pem_file(&self.private_key)
            .map_err(|e| tls_err("private key", e))?;
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_err("protocol versions", e))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
            .with_client_auth_cert(certs, key)
            .map_err(|e| tls_err("client certificate", e))?;
        Ok(TlsConnector::from(Arc::new(cfg)))
    }
}

/// Full WebPKI chain, validity and signature checks; only a name mismatch is
/// forgiven (the name check runs after the chain check, so the chain was good).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
