//! Owned mbufs and fixed-capacity bursts of them.

use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use dataplane::packet::{NoRoom, Packet};
use dpdk_sys as sys;

use crate::mempool::Mempool;

/// The unique owner of one `rte_mbuf`; dropping it frees the mbuf to its pool.
///
/// `#[repr(transparent)]` over a non-null pointer, so `[Mbuf]` has the layout of
/// `struct rte_mbuf *[]` and bursts go to `rte_eth_tx_burst` without copying.
///
/// The [`Packet`] methods treat the mbuf as a single segment (the first one): the
/// runtime configures no scattered rx, so received frames are single-segment;
/// `append`/`trim` refuse multi-segment mbufs.
#[repr(transparent)]
#[derive(Debug)]
pub struct Mbuf(NonNull<sys::rte_mbuf>);

// SAFETY: an Mbuf is the unique owner of its buffer; freeing it from any thread is
// allowed (pool ops are multi-producer; non-EAL threads bypass the lcore cache).
unsafe impl Send for Mbuf {}
// SAFETY: through &Mbuf only reads happen.
unsafe impl Sync for Mbuf {}

impl Mbuf {
    /// Allocates a reset mbuf (empty frame, default headroom), or None when the pool
    /// is exhausted.
    #[inline]
    pub fn alloc(pool: &Mempool) -> Option<Mbuf> {
        // SAFETY: the pool is a live pktmbuf pool; a non-null result is a fresh mbuf
        // that we now own.
        NonNull::new(unsafe { sys::shim_rte_pktmbuf_alloc(pool.as_ptr()) }).map(Mbuf)
    }

    /// Allocates an mbuf holding a copy of `frame`; None when the pool is exhausted or
    /// the frame does not fit.
    pub fn from_slice(pool: &Mempool, frame: &[u8]) -> Option<Mbuf> {
        let mut m = Mbuf::alloc(pool)?;
        m.append(frame.len()).ok()?.copy_from_slice(frame);
        Some(m)
    }

    /// Takes ownership of a raw mbuf.
    ///
    /// # Safety
    /// `ptr` must be a valid mbuf that the caller owns and gives up: nothing else may
    /// free it, and nothing else may access its data while the returned `Mbuf` lives.
    #[inline]
    pub unsafe fn from_raw(ptr: NonNull<sys::rte_mbuf>) -> Mbuf {
        Mbuf(ptr)
    }

    /// Gives up ownership without freeing; the caller must free or hand it on.
    #[inline]
    pub fn into_raw(self) -> NonNull<sys::rte_mbuf> {
        let ptr = self.0;
        std::mem::forget(self);
        ptr
    }

    /// The raw mbuf, still owned by `self`.
    #[inline]
    pub fn as_ptr(&self) -> *mut sys::rte_mbuf {
        self.0.as_ptr()
    }

    #[inline]
    fn raw(&self) -> &sys::rte_mbuf {
        // SAFETY: self owns a valid mbuf for its whole life.
        unsafe { self.0.as_ref() }
    }

    #[inline]
    fn raw_mut(&mut self) -> &mut sys::rte_mbuf {
        // SAFETY: self owns a valid mbuf and &mut self makes this access unique.
        unsafe { self.0.as_mut() }
    }

    /// Bytes that can still be appended to the (first) segment.
    #[inline]
    pub fn tailroom(&self) -> usize {
        let m = self.raw();
        usize::from(m.buf_len) - usize::from(m.data_off) - usize::from(m.data_len)
    }

    /// Total frame length over all segments (`pkt_len`).
    #[inline]
    pub fn pkt_len(&self) -> u32 {
        self.raw().pkt_len
    }

    /// Number of segments.
    #[inline]
    pub fn nb_segs(&self) -> u16 {
        self.raw().nb_segs
    }

    /// The mbuf's reference count (1 for a buffer nobody else holds).
    #[inline]
    pub fn refcnt(&self) -> u16 {
        // SAFETY: valid mbuf; an atomic read.
        unsafe { sys::shim_rte_mbuf_refcnt_read(self.0.as_ptr()) }
    }

    /// The offload flags (`RTE_MBUF_F_*`).
    #[inline]
    pub fn ol_flags(&self) -> u64 {
        self.raw().ol_flags
    }

    /// Sets the port recorded in the mbuf (what [`Packet::input_port`] returns).
    #[inline]
    pub fn set_port(&mut self, port: u16) {
        self.raw_mut().port = port;
    }

    #[inline]
    fn is_single_segment(&self) -> bool {
        self.raw().nb_segs == 1
    }
}

impl Drop for Mbuf {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own the mbuf and never use it again.
        unsafe { sys::shim_rte_pktmbuf_free(self.0.as_ptr()) }
    }
}

impl Packet for Mbuf {
    #[inline]
    fn data(&self) -> &[u8] {
        let m = self.raw();
        // SAFETY: buf_addr points to buf_len bytes and data_off + data_len <= buf_len
        // (a DPDK invariant kept by every method here); we own the buffer.
        unsafe {
            std::slice::from_raw_parts(
                m.buf_addr.cast::<u8>().add(usize::from(m.data_off)),
                usize::from(m.data_len),
            )
        }
    }

    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        let m = self.raw_mut();
        // SAFETY: as in data(); &mut self makes the access unique.
        unsafe {
            std::slice::from_raw_parts_mut(
                m.buf_addr.cast::<u8>().add(usize::from(m.data_off)),
                usize::from(m.data_len),
            )
        }
    }

    #[inline]
    fn prepend(&mut self, len: usize) -> Result<&mut [u8], NoRoom> {
        let m = self.raw_mut();
        if len > usize::from(m.data_off) {
            return Err(NoRoom);
        }
        // len <= data_off <= u16::MAX, and data_len + len <= buf_len.
        let l16 = len as u16;
        m.data_off -= l16;
        m.data_len += l16;
        m.pkt_len += u32::from(l16);
        // SAFETY: the new leading bytes lie inside the buffer (data_off >= 0).
        Ok(unsafe {
            std::slice::from_raw_parts_mut(
                m.buf_addr.cast::<u8>().add(usize::from(m.data_off)),
                len,
            )
        })
    }

    #[inline]
    fn adj(&mut self, len: usize) -> Result<(), NoRoom> {
        let m = self.raw_mut();
        if len > usize::from(m.data_len) {
            return Err(NoRoom);
        }
        let l16 = len as u16;
        m.data_off += l16;
        m.data_len -= l16;
        m.pkt_len -= u32::from(l16);
        Ok(())
    }

    #[inline]
    fn append(&mut self, len: usize) -> Result<&mut [u8], NoRoom> {
        if len > self.tailroom() || !self.is_single_segment() {
            return Err(NoRoom);
        }
        let m = self.raw_mut();
        let l16 = len as u16;
        let old_end = usize::from(m.data_off) + usize::from(m.data_len);
        m.data_len += l16;
        m.pkt_len += u32::from(l16);
        // SAFETY: old_end + len <= buf_len (checked against the tailroom).
        Ok(unsafe { std::slice::from_raw_parts_mut(m.buf_addr.cast::<u8>().add(old_end), len) })
    }

    #[inline]
    fn trim(&mut self, len: usize) -> Result<(), NoRoom> {
        if !self.is_single_segment() {
            return Err(NoRoom);
        }
        let m = self.raw_mut();
        if len > usize::from(m.data_len) {
            return Err(NoRoom);
        }
        let l16 = len as u16;
        m.data_len -= l16;
        m.pkt_len -= u32::from(l16);
        Ok(())
    }

    #[inline]
    fn headroom(&self) -> usize {
        usize::from(self.raw().data_off)
    }

    #[inline]
    fn input_port(&self) -> u16 {
        self.raw().port
    }

    #[inline]
    fn rss_hash(&self) -> Option<u32> {
        let m = self.raw();
        if m.ol_flags & u64::from(sys::RTE_MBUF_F_RX_RSS_HASH) != 0 {
            // SAFETY: with RTE_MBUF_F_RX_RSS_HASH set the PMD wrote hash.rss; every
            // variant of the union is plain integers anyway.
            Some(unsafe { m.__bindgen_anon_2.hash.rss })
        } else {
            None
        }
    }
}

/// A fixed-capacity, stack-allocated array of up to `N` mbufs: the unit of rx and tx.
///
/// No heap; dropping or [`clear`](Burst::clear)ing frees the mbufs it holds.
/// Dereferences to `[Mbuf]`.
pub struct Burst<const N: usize = 32> {
    len: usize,
    bufs: [MaybeUninit<Mbuf>; N],
}

impl<const N: usize> Default for Burst<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> std::fmt::Debug for Burst<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Burst")
            .field("len", &self.len)
            .field("capacity", &N)
            .finish()
    }
}

impl<const N: usize> Burst<N> {
    /// Capacity.
    pub const CAPACITY: usize = N;

    /// An empty burst.
    #[inline]
    pub const fn new() -> Self {
        Burst {
            len: 0,
            bufs: [const { MaybeUninit::uninit() }; N],
        }
    }

    /// Number of mbufs held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when full.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == N
    }

    /// Free slots.
    #[inline]
    pub fn spare(&self) -> usize {
        N - self.len
    }

    /// The mbufs held.
    #[inline]
    pub fn as_slice(&self) -> &[Mbuf] {
        // SAFETY: the first len slots are initialised; MaybeUninit<Mbuf> has Mbuf's layout.
        unsafe { std::slice::from_raw_parts(self.bufs.as_ptr().cast::<Mbuf>(), self.len) }
    }

    /// The mbufs held, writable.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Mbuf] {
        // SAFETY: as in as_slice; &mut self makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.bufs.as_mut_ptr().cast::<Mbuf>(), self.len) }
    }

    /// Adds an mbuf at the end, or gives it back when full.
    #[inline]
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        if self.len == N {
            return Err(m);
        }
        self.bufs[self.len].write(m);
        self.len += 1;
        Ok(())
    }

    /// Removes the last mbuf.
    #[inline]
    pub fn pop(&mut self) -> Option<Mbuf> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: slot len was initialised and is now outside the live range.
        Some(unsafe { self.bufs[self.len].assume_init_read() })
    }

    /// Removes every mbuf, front to back, as owned values. Mbufs the iterator does not
    /// yield are freed when it is dropped.
    #[inline]
    pub fn drain(&mut self) -> Drain<'_, N> {
        let end = self.len;
        // Leak-safe: if the Drain is forgotten the mbufs leak, nothing is freed twice.
        self.len = 0;
        Drain {
            burst: self,
            pos: 0,
            end,
        }
    }

    /// Frees every mbuf.
    #[inline]
    pub fn clear(&mut self) {
        let n = self.len;
        self.len = 0;
        if n > 0 {
            // SAFETY: the first n slots were owned mbufs, now outside the live range.
            unsafe { sys::shim_rte_pktmbuf_free_bulk(self.raw_ptr(), n as u32) }
        }
    }

    /// Allocates `n` fresh mbufs from `pool` at the end (all or nothing:
    /// `rte_pktmbuf_alloc_bulk`). False when the pool cannot supply them or `n` exceeds
    /// the free slots.
    #[inline]
    pub fn alloc(&mut self, pool: &Mempool, n: usize) -> bool {
        if n > self.spare() {
            return false;
        }
        // SAFETY: slots len..len+n are free; on success DPDK wrote n owned mbufs there.
        let ret = unsafe {
            sys::shim_rte_pktmbuf_alloc_bulk(pool.as_ptr(), self.raw_ptr().add(self.len), n as u32)
        };
        if ret == 0 {
            self.len += n;
            true
        } else {
            false
        }
    }

    /// Pointer to slot 0 as `struct rte_mbuf **`.
    #[inline]
    pub(crate) fn raw_ptr(&mut self) -> *mut *mut sys::rte_mbuf {
        self.bufs.as_mut_ptr().cast()
    }

    /// Records that `n` mbufs were written into the free slots (rx).
    ///
    /// # Safety
    /// Slots `len..len + n` must now hold owned mbufs and `n <= spare()`.
    #[inline]
    pub(crate) unsafe fn assume_appended(&mut self, n: usize) {
        debug_assert!(n <= self.spare());
        self.len += n;
    }

    /// Forgets the first `n` mbufs (their ownership went elsewhere, e.g. to the PMD on
    /// tx) and moves the rest to the front.
    ///
    /// # Safety
    /// `n <= len`, and the first `n` mbufs must no longer be owned by the burst.
    #[inline]
    pub(crate) unsafe fn forget_front(&mut self, n: usize) {
        debug_assert!(n <= self.len);
        let rest = self.len - n;
        if n > 0 && rest > 0 {
            let base = self.bufs.as_mut_ptr();
            // SAFETY: both ranges lie within the array; copy handles the overlap.
            unsafe { std::ptr::copy(base.add(n), base, rest) };
        }
        self.len = rest;
    }
}

impl<const N: usize> Drop for Burst<N> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<const N: usize> Deref for Burst<N> {
    type Target = [Mbuf];
    #[inline]
    fn deref(&self) -> &[Mbuf] {
        self.as_slice()
    }
}

impl<const N: usize> DerefMut for Burst<N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Mbuf] {
        self.as_mut_slice()
    }
}

/// Owning iterator from [`Burst::drain`].
pub struct Drain<'a, const N: usize> {
    burst: &'a mut Burst<N>,
    pos: usize,
    end: usize,
}

impl<const N: usize> Iterator for Drain<'_, N> {
    type Item = Mbuf;

    #[inline]
    fn next(&mut self) -> Option<Mbuf> {
        if self.pos == self.end {
            return None;
        }
        // SAFETY: slots pos..end are owned mbufs not yet yielded; each is read once.
        let m = unsafe { self.burst.bufs[self.pos].assume_init_read() };
        self.pos += 1;
        Some(m)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.pos, Some(self.end - self.pos))
    }
}

impl<const N: usize> ExactSizeIterator for Drain<'_, N> {}

impl<const N: usize> Drop for Drain<'_, N> {
    fn drop(&mut self) {
        let n = self.end - self.pos;
        if n > 0 {
            // SAFETY: slots pos..end are owned mbufs that were not yielded.
            unsafe { sys::shim_rte_pktmbuf_free_bulk(self.burst.raw_ptr().add(self.pos), n as u32) }
        }
    }
}
