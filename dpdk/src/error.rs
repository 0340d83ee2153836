//! The crate's error type.

use std::ffi::CStr;
use std::fmt;

use dpdk_sys as sys;

/// Receive or transmit side of a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Receive.
    Rx,
    /// Transmit.
    Tx,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Rx => "rx",
            Direction::Tx => "tx",
        })
    }
}

/// What went wrong in a DPDK call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A DPDK function failed.
    Rte {
        /// The DPDK function, e.g. `rte_dev_probe`.
        call: &'static str,
        /// What it was called on: devargs, a port name, a pool name.
        subject: String,
        /// The error number: `rte_errno`, or the negated negative return value.
        errno: i32,
        /// `rte_strerror(errno)`, or a clearer text where DPDK's errno misleads.
        text: String,
    },
    /// [`crate::Eal::init`] was already called in this process (it runs once).
    AlreadyInitialized,
    /// The EAL is not initialised (or was cleaned up).
    NotInitialized,
    /// An argument was rejected before reaching DPDK.
    InvalidArgument {
        /// The operation.
        call: &'static str,
        /// Why.
        reason: String,
    },
    /// More queues were requested than the device supports.
    QueueLimit {
        /// The port id.
        port_id: u16,
        /// The port (ethdev) name.
        port: String,
        /// Which side.
        direction: Direction,
        /// How many were requested.
        requested: u16,
        /// The device's maximum.
        max: u16,
    },
    /// A port cannot be stopped or closed while queue handles for it are alive.
    PortBusy {
        /// The port id.
        port_id: u16,
        /// The port (ethdev) name.
        port: String,
    },
    /// A queue handle was requested that does not exist or is already handed out.
    QueueUnavailable {
        /// The port id.
        port_id: u16,
        /// The port (ethdev) name.
        port: String,
        /// Which side.
        direction: Direction,
        /// The queue.
        queue: u16,
        /// Why: out of range or taken.
        reason: &'static str,
    },
}

/// `rte_strerror` for a positive error number, copied out of DPDK's buffer.
pub(crate) fn strerror(errno: i32) -> String {
    // SAFETY: rte_strerror accepts any int and returns a NUL-terminated string (static
    // or per-thread), which is copied before any other DPDK call.
    unsafe { CStr::from_ptr(sys::rte_strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

/// The calling thread's `rte_errno`.
pub(crate) fn rte_errno() -> i32 {
    // SAFETY: reads a thread-local int.
    unsafe { sys::shim_rte_errno() }
}

impl Error {
    /// An error from a DPDK call, given its error number (either sign).
    pub(crate) fn rte(call: &'static str, subject: impl Into<String>, code: i32) -> Error {
        let errno = code.checked_abs().unwrap_or(i32::MAX);
        Error::Rte {
            call,
            subject: subject.into(),
            errno,
            text: strerror(errno),
        }
    }

    /// An error from a DPDK call that reports through `rte_errno`.
    pub(crate) fn from_errno(call: &'static str, subject: impl Into<String>) -> Error {
        Error::rte(call, subject, rte_errno())
    }

    /// Ok for `ret >= 0`, else an [`Error::Rte`] from the negative return value.
    pub(crate) fn check(call: &'static str, subject: &str, ret: i32) -> Result<i32, Error> {
        if ret < 0 {
            Err(Error::rte(call, subject, ret))
        } else {
            Ok(ret)
        }
    }

    /// The error number of an [`Error::Rte`].
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Rte { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rte {
                call,
                subject,
                errno,
                text,
            } => write!(f, "{call}({subject}) failed: {text} (errno {errno})"),
            Error::AlreadyInitialized => {
                f.write_str("the DPDK EAL was already initialised in this process")
            }
            Error::NotInitialized => f.write_str("the DPDK EAL is not initialised"),
            Error::InvalidArgument { call, reason } => write!(f, "{call}: {reason}"),
            Error::QueueLimit {
                port_id,
                port,
                direction,
                requested,
                max,
            } => write!(
                f,
                "port {port_id} ({port}): {requested} {direction} queues requested, \
                 the device supports at most {max}"
            ),
            Error::PortBusy { port_id, port } => write!(
                f,
                "port {port_id} ({port}): rx/tx queue handles are still alive; \
                 drop them (stop the lcores) before stopping or closing the port"
            ),
            Error::QueueUnavailable {
                port_id,
                port,
                direction,
                queue,
                reason,
            } => write!(
                f,
                "port {port_id} ({port}): {direction} queue {queue} {reason}"
            ),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_call_subject_and_text() {
        let e = Error::Rte {
            call: "rte_dev_probe",
            subject: "net_bogus0".into(),
            errno: 19,
            text: "No such device".into(),
        };
        assert_eq!(
            e.to_string(),
            "rte_dev_probe(net_bogus0) failed: No such device (errno 19)"
        );
        assert_eq!(e.errno(), Some(19));
    }

    #[test]
    fn strerror_works_without_eal() {
        assert!(!strerror(libc::ENODEV).is_empty());
        assert_eq!(
            Error::rte("x", "y", -libc::ENODEV).errno(),
            Some(libc::ENODEV)
        );
    }
}
