//! OVSDB (RFC 7047) client (placeholder: being written).
