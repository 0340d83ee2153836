//! Packet buffer pools.

use std::ffi::{CStr, CString};
use std::ptr::NonNull;

use dpdk_sys as sys;

use crate::eal::ensure_ready;
use crate::error::Error;

/// A pool of packet mbufs (`rte_pktmbuf_pool_create`): a cheap, clonable handle.
///
/// Pools live until [`crate::Eal::cleanup`]; dropping a handle frees nothing, because
/// mbufs and port rx queues keep pointing into the pool.
#[derive(Debug, Clone)]
pub struct Mempool {
    ptr: NonNull<sys::rte_mempool>,
}

// SAFETY: the default pktmbuf pool ops ("ring_mp_mc") are multi-producer/multi-consumer
// and the handle is only a pointer to a pool that is never freed while the EAL lives.
unsafe impl Send for Mempool {}
// SAFETY: as above; every operation through &Mempool is thread-safe in DPDK.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `mbufs` packet buffers with a per-lcore cache of `cache`,
    /// `data_room` bytes of buffer each (headroom included: use
    /// `RTE_MBUF_DEFAULT_BUF_SIZE` = 2176 for 2048 bytes of frame plus 128 of headroom)
    /// on NUMA `socket` (`-1` = any).
    ///
    /// Names are unique per process and at most 25 bytes. The best `mbufs` is a power
    /// of two minus one; `cache` must be at most 512 and at most `mbufs / 1.5`.
    pub fn pktmbuf(
        name: &str,
        mbufs: u32,
        cache: u32,
        data_room: u16,
        socket: i32,
    ) -> Result<Mempool, Error> {
        ensure_ready()?;
        let cname = CString::new(name).map_err(|_| Error::InvalidArgument {
            call: "rte_pktmbuf_pool_create",
            reason: format!("pool name {name:?} contains a NUL byte"),
        })?;
        // SAFETY: the EAL is initialised and cname is a valid C string; DPDK copies it.
        let ptr = unsafe {
            sys::rte_pktmbuf_pool_create(cname.as_ptr(), mbufs, cache, 0, data_room, socket)
        };
        NonNull::new(ptr)
            .map(|ptr| Mempool { ptr })
            .ok_or_else(|| Error::from_errno("rte_pktmbuf_pool_create", name))
    }

    /// The raw pool, for calls this crate does not wrap.
    pub fn as_ptr(&self) -> *mut sys::rte_mempool {
        self.ptr.as_ptr()
    }

    /// The pool's name.
    pub fn name(&self) -> String {
        // SAFETY: the pool is alive; name is a NUL-terminated array inside it.
        unsafe { CStr::from_ptr((*self.ptr.as_ptr()).name.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    /// Total number of mbufs in the pool.
    pub fn capacity(&self) -> u32 {
        // SAFETY: the pool is alive; size is immutable after creation.
        unsafe { (*self.ptr.as_ptr()).size }
    }

    /// Mbufs currently free (in the ring and the lcore caches). Slow: not for the fast
    /// path.
    pub fn available(&self) -> u32 {
        // SAFETY: the pool is alive; counting is thread-safe.
        unsafe { sys::shim_rte_mempool_avail_count(self.ptr.as_ptr()) }
    }

    /// Mbufs currently allocated. Slow: not for the fast path.
    pub fn in_use(&self) -> u32 {
        // SAFETY: the pool is alive; counting is thread-safe.
        unsafe { sys::rte_mempool_in_use_count(self.ptr.as_ptr()) }
    }

    /// The data room of each mbuf (headroom plus frame space).
    pub fn data_room(&self) -> u16 {
        // SAFETY: the pool is alive and is a pktmbuf pool (only constructor).
        unsafe { sys::shim_rte_pktmbuf_data_room_size(self.ptr.as_ptr()) }
    }
}
