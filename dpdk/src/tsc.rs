//! The time stamp counter: cheap timestamps for poll loops.

use dpdk_sys as sys;

/// The current TSC value (`rte_rdtsc`).
#[inline]
pub fn now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc is available on every x86-64 CPU and has no preconditions;
        // rte_rdtsc is exactly this instruction.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        // SAFETY: no preconditions.
        unsafe { sys::shim_rte_rdtsc() }
    }
}

/// TSC ticks per second (`rte_get_tsc_hz`); 0 before EAL init.
#[inline]
pub fn hz() -> u64 {
    // SAFETY: reads a value set at EAL init.
    unsafe { sys::shim_rte_get_tsc_hz() }
}
