//! Worker lcores: launching closures on them and waiting for the results.

use std::ffi::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use dpdk_sys as sys;

use crate::eal::{ensure_ready, original_affinity};
use crate::error::Error;

/// What [`wait`] returns for an lcore whose closure panicked.
pub const PANICKED: i32 = i32::MIN;

type Job = Box<dyn FnOnce() -> i32 + Send + 'static>;

/// The calling thread's lcore id; `u32::MAX` (`LCORE_ID_ANY`) on non-EAL threads.
#[inline]
pub fn current() -> u32 {
    // SAFETY: reads a thread-local variable.
    unsafe { sys::shim_rte_lcore_id() }
}

/// True on the main lcore's thread.
pub fn is_main() -> bool {
    // SAFETY: reads EAL configuration; returns 0 before init, harmless.
    ensure_ready().is_ok() && current() == unsafe { sys::rte_get_main_lcore() }
}

unsafe extern "C" fn trampoline(arg: *mut c_void) -> c_int {
    // SAFETY: arg is the Box<Job> leaked by launch, passed to exactly one trampoline.
    let job: Box<Job> = unsafe { Box::from_raw(arg.cast::<Job>()) };
    // A panic must not unwind into C.
    catch_unwind(AssertUnwindSafe(job)).unwrap_or(PANICKED)
}

/// Runs `f` on worker lcore `lcore_id` (`rte_eal_remote_launch`); its return value is
/// collected by [`wait`]. Call from the main lcore; the worker must be idle (finished
/// and waited for, or never launched). A panic in `f` is caught and reported by
/// [`wait`] as [`PANICKED`].
pub fn launch(lcore_id: u32, f: impl FnOnce() -> i32 + Send + 'static) -> Result<(), Error> {
    ensure_ready()?;
    let invalid = |reason: String| Error::InvalidArgument {
        call: "rte_eal_remote_launch",
        reason,
    };
    if !is_main() {
        return Err(invalid(format!(
            "must be called from the main lcore (this thread is lcore {})",
            current() as i32
        )));
    }
    if !is_worker(lcore_id) {
        return Err(invalid(format!(
            "lcore {lcore_id} is not an enabled worker lcore"
        )));
    }
    let job: Box<Job> = Box::new(Box::new(f));
    let arg = Box::into_raw(job).cast::<c_void>();
    // SAFETY: on the main lcore (so launches are serialised), lcore_id is an enabled
    // worker; the trampoline takes ownership of arg when the launch succeeds.
    let ret = unsafe { sys::rte_eal_remote_launch(Some(trampoline), arg, lcore_id) };
    if ret < 0 {
        // SAFETY: the launch failed, so DPDK did not keep arg: reclaim it.
        drop(unsafe { Box::from_raw(arg.cast::<Job>()) });
        return Err(Error::rte(
            "rte_eal_remote_launch",
            format!("lcore {lcore_id}"),
            ret,
        ));
    }
    Ok(())
}

fn is_worker(lcore_id: u32) -> bool {
    // SAFETY: bounds-checked index; reads EAL configuration.
    lcore_id < sys::RTE_MAX_LCORE
        && unsafe { sys::rte_lcore_is_enabled(lcore_id) } != 0
        && lcore_id != unsafe { sys::rte_get_main_lcore() }
}

/// Waits for the closure on `lcore_id` to finish and returns its result (0 for an lcore
/// that was never launched; `-EINVAL` for an id that is not a worker lcore).
pub fn wait(lcore_id: u32) -> i32 {
    if ensure_ready().is_err() || !is_worker(lcore_id) {
        return -libc::EINVAL;
    }
    // SAFETY: lcore_id is an enabled worker lcore (bounds checked).
    unsafe { sys::rte_eal_wait_lcore(lcore_id) }
}

/// Waits for every worker lcore to finish.
pub fn wait_all() {
    if ensure_ready().is_ok() {
        // SAFETY: the EAL is up.
        unsafe { sys::rte_eal_mp_wait_lcore() }
    }
}

/// Gives the calling thread back the CPU mask the [`crate::Eal::init`] thread had
/// before EAL pinned it (every CPU when unknown). Call it first thing in threads
/// spawned after EAL init that are not lcores (tokio workers: `on_thread_start`).
pub fn reset_thread_affinity() -> std::io::Result<()> {
    let set = match original_affinity() {
        Some(set) => *set,
        None => {
            // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: sysconf has no preconditions.
            let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1) as usize;
            for cpu in 0..cpus.min(libc::CPU_SETSIZE as usize) {
                // SAFETY: cpu < CPU_SETSIZE.
                unsafe { libc::CPU_SET(cpu, &mut set) };
            }
            set
        }
    };
    // SAFETY: pid 0 is the calling thread; set is a valid cpu_set_t of that size.
    let ret = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const set) };
    if ret == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
