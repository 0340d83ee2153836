//! EAL lifecycle: init once per process, lcore topology, cleanup.

use std::ffi::{CStr, CString, c_char, c_int};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use dpdk_sys as sys;

use crate::error::Error;

const UNINIT: u8 = 0;
const INITIALIZING: u8 = 1;
const READY: u8 = 2;
const FAILED: u8 = 3;
const CLEANED: u8 = 4;

static STATE: AtomicU8 = AtomicU8::new(UNINIT);

/// The CPU mask of the thread that called [`Eal::init`], saved before EAL pinned it.
static ORIGINAL_AFFINITY: OnceLock<libc::cpu_set_t> = OnceLock::new();

/// Ok when the EAL is up; every control-path call checks this first.
pub(crate) fn ensure_ready() -> Result<(), Error> {
    if STATE.load(Ordering::Acquire) == READY {
        Ok(())
    } else {
        Err(Error::NotInitialized)
    }
}

pub(crate) fn original_affinity() -> Option<&'static libc::cpu_set_t> {
    ORIGINAL_AFFINITY.get()
}

/// The DPDK version string, e.g. `DPDK 22.11.11`. Works before EAL init.
pub fn version() -> String {
    // SAFETY: rte_version returns a pointer to a static NUL-terminated string.
    unsafe { CStr::from_ptr(sys::rte_version()) }
        .to_string_lossy()
        .into_owned()
}

/// Proof that the EAL is initialised in this process.
///
/// `rte_eal_init` runs once per process: a second [`Eal::init`], even after a failed or
/// cleaned-up one, returns [`Error::AlreadyInitialized`].
///
/// The calling thread becomes the main lcore and is pinned to its CPU; threads spawned
/// afterwards inherit that mask (see [`crate::lcore::reset_thread_affinity`]).
#[derive(Debug)]
pub struct Eal {
    _private: (),
}

impl Eal {
    /// Initialises the EAL with `args`, the EAL arguments *without* a program name
    /// (for example `["-l", "0-1", "--no-huge", "-m", "256", "--vdev=net_ring0"]`).
    ///
    /// The argument strings are leaked on purpose: EAL keeps pointers into them.
    pub fn init(args: &[String]) -> Result<Eal, Error> {
        let mut cargs = Vec::with_capacity(args.len() + 1);
        for arg in std::iter::once("causeway").chain(args.iter().map(String::as_str)) {
            cargs.push(CString::new(arg).map_err(|_| Error::InvalidArgument {
                call: "rte_eal_init",
                reason: format!("argument {arg:?} contains a NUL byte"),
            })?);
        }
        let argc = c_int::try_from(cargs.len()).map_err(|_| Error::InvalidArgument {
            call: "rte_eal_init",
            reason: "too many arguments".into(),
        })?;
        if STATE
            .compare_exchange(UNINIT, INITIALIZING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(Error::AlreadyInitialized);
        }
        let argv: Vec<*mut c_char> = cargs
            .into_iter()
            .map(CString::into_raw)
            .chain(std::iter::once(std::ptr::null_mut()))
            .collect();
        let argv: &'static mut [*mut c_char] = argv.leak();

        save_affinity();
        // SAFETY: argv holds argc valid NUL-terminated strings plus a NULL, all leaked
        // so they outlive the EAL, which may keep and permute them; STATE guarantees
        // this runs once per process.
        let ret = unsafe { sys::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            let err = Error::from_errno("rte_eal_init", args.join(" "));
            STATE.store(FAILED, Ordering::Release);
            return Err(err);
        }
        STATE.store(READY, Ordering::Release);
        Ok(Eal { _private: () })
    }

    /// True when the EAL runs on hugepages (false with `--no-huge`).
    pub fn has_hugepages(&self) -> bool {
        // SAFETY: reads EAL configuration; the EAL is initialised (self exists).
        unsafe { sys::rte_eal_has_hugepages() != 0 }
    }

    /// The main lcore's id (the thread that called [`Eal::init`]).
    pub fn main_lcore(&self) -> u32 {
        // SAFETY: reads EAL configuration.
        unsafe { sys::rte_get_main_lcore() }
    }

    /// Enabled lcores other than the main one, in ascending order.
    pub fn worker_lcores(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut i = u32::MAX; // RTE_LCORE_FOREACH_WORKER starts from -1
        loop {
            // SAFETY: rte_get_next_lcore accepts any index and returns >= RTE_MAX_LCORE
            // when there are no more.
            i = unsafe { sys::rte_get_next_lcore(i, 1, 0) };
            if i >= sys::RTE_MAX_LCORE {
                return out;
            }
            out.push(i);
        }
    }

    /// Number of enabled lcores, main included.
    pub fn lcore_count(&self) -> u32 {
        // SAFETY: reads EAL configuration.
        unsafe { sys::rte_lcore_count() }
    }

    /// Releases the EAL's resources (`rte_eal_cleanup`). The EAL cannot be started again
    /// in this process.
    ///
    /// # Safety
    /// Every [`crate::Mbuf`], [`crate::Burst`], [`crate::Mempool`], [`crate::Port`] and
    /// queue handle must be gone (dropped or forgotten and never used again), and no
    /// worker lcore may be running: their memory is released here.
    pub unsafe fn cleanup(self) -> Result<(), Error> {
        STATE.store(CLEANED, Ordering::Release);
        // SAFETY: the caller guarantees nothing uses DPDK memory any more.
        let ret = unsafe { sys::rte_eal_cleanup() };
        Error::check("rte_eal_cleanup", "", ret).map(|_| ())
    }
}

fn save_affinity() {
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 is the calling thread; set is a valid cpu_set_t of the given size.
    let ret = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &raw mut set) };
    if ret == 0 {
        let _ = ORIGINAL_AFFINITY.set(set);
    }
}
