//! The [`Packet`] trait: a frame with headroom and tailroom plus receive metadata.

/// Not enough headroom, tailroom or data for the requested change; the packet is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom;

impl std::fmt::Display for NoRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not enough room in the packet buffer")
    }
}

impl std::error::Error for NoRoom {}

/// A single contiguous frame that pipelines read and rewrite in place.
///
/// Implemented by DPDK mbufs (single segment) and by [`HeapPacket`]. Every method is
/// O(1) and allocation-free: growing at the front uses headroom reserved at allocation
/// time, which is how encapsulation writes outer headers without copying the payload.
pub trait Packet {
    /// The frame's bytes, from the first byte of the outermost header.
    fn data(&self) -> &[u8];
    /// The frame's bytes, writable.
    fn data_mut(&mut self) -> &mut [u8];
    /// Grows the frame by `len` bytes at the front and returns the new leading bytes.
    fn prepend(&mut self, len: usize) -> Result<&mut [u8], NoRoom>;
    /// Removes `len` bytes from the front (decapsulation).
    fn adj(&mut self, len: usize) -> Result<(), NoRoom>;
    /// Grows the frame by `len` bytes at the back and returns the new trailing bytes.
    fn append(&mut self, len: usize) -> Result<&mut [u8], NoRoom>;
    /// Removes `len` bytes from the back.
    fn trim(&mut self, len: usize) -> Result<(), NoRoom>;
    /// Bytes that can still be prepended.
    fn headroom(&self) -> usize;
    /// The port the frame arrived on.
    fn input_port(&self) -> u16;
    /// The receive-side flow hash (RSS), when the NIC or vdev provided one.
    fn rss_hash(&self) -> Option<u32>;

    /// Frame length in bytes.
    #[inline]
    fn len(&self) -> usize {
        self.data().len()
    }

    /// True for a zero-length frame.
    #[inline]
    fn is_empty(&self) -> bool {
        self.data().is_empty()
    }
}

/// A heap-backed [`Packet`] for tests and tools: `headroom` bytes of free space, the
/// frame, then free tailroom up to the buffer's capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeapPacket {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    input_port: u16,
    rss_hash: Option<u32>,
}

impl HeapPacket {
    /// Default headroom, the same as DPDK's `RTE_PKTMBUF_HEADROOM`.
    pub const DEFAULT_HEADROOM: usize = 128;
    /// Default tailroom.
    pub const DEFAULT_TAILROOM: usize = 128;

    /// A packet holding a copy of `frame` with default head- and tailroom.
    pub fn from_frame(frame: &[u8]) -> Self {
        Self::with_room(frame, Self::DEFAULT_HEADROOM, Self::DEFAULT_TAILROOM)
    }

    /// A packet holding a copy of `frame` with the given head- and tailroom.
    pub fn with_room(frame: &[u8], headroom: usize, tailroom: usize) -> Self {
        let mut buf = vec![0; headroom + frame.len() + tailroom];
        buf[headroom..headroom + frame.len()].copy_from_slice(frame);
        HeapPacket {
            buf,
            start: headroom,
            end: headroom + frame.len(),
            input_port: 0,
            rss_hash: None,
        }
    }

    /// Sets the input port, as a receive path would.
    pub fn set_input_port(&mut self, port: u16) -> &mut Self {
        self.input_port = port;
        self
    }

    /// Sets the receive flow hash, as RSS would.
    pub fn set_rss_hash(&mut self, hash: Option<u32>) -> &mut Self {
        self.rss_hash = hash;
        self
    }
}

impl Packet for HeapPacket {
    #[inline]
    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }

    #[inline]
    fn prepend(&mut self, len: usize) -> Result<&mut [u8], NoRoom> {
        if len > self.start {
            return Err(NoRoom);
        }
        self.start -= len;
        Ok(&mut self.buf[self.start..self.start + len])
    }

    #[inline]
    fn adj(&mut self, len: usize) -> Result<(), NoRoom> {
        if len > self.end - self.start {
            return Err(NoRoom);
        }
        self.start += len;
        Ok(())
    }

    #[inline]
    fn append(&mut self, len: usize) -> Result<&mut [u8], NoRoom> {
        if len > self.buf.len() - self.end {
            return Err(NoRoom);
        }
        let old_end = self.end;
        self.end += len;
        Ok(&mut self.buf[old_end..self.end])
    }

    #[inline]
    fn trim(&mut self, len: usize) -> Result<(), NoRoom> {
        if len > self.end - self.start {
            return Err(NoRoom);
        }
        self.end -= len;
        Ok(())
    }

    #[inline]
    fn headroom(&self) -> usize {
        self.start
    }

    #[inline]
    fn input_port(&self) -> u16 {
        self.input_port
    }

    #[inline]
    fn rss_hash(&self) -> Option<u32> {
        self.rss_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_then_adj_restores_the_frame() {
        let mut p = HeapPacket::with_room(&[1, 2, 3], 4, 0);
        p.prepend(4).unwrap().copy_from_slice(&[9, 9, 9, 9]);
        assert_eq!(p.data(), &[9, 9, 9, 9, 1, 2, 3]);
        assert_eq!(p.headroom(), 0);
        assert_eq!(p.prepend(1), Err(NoRoom));
        p.adj(4).unwrap();
        assert_eq!(p.data(), &[1, 2, 3]);
    }

    #[test]
    fn append_and_trim_respect_tailroom() {
        let mut p = HeapPacket::with_room(&[1], 0, 2);
        p.append(2).unwrap().copy_from_slice(&[2, 3]);
        assert_eq!(p.data(), &[1, 2, 3]);
        assert_eq!(p.append(1), Err(NoRoom));
        p.trim(2).unwrap();
        assert_eq!(p.data(), &[1]);
        assert_eq!(p.trim(2), Err(NoRoom));
        assert_eq!(p.adj(2), Err(NoRoom));
        assert_eq!(
            p.data(),
            &[1],
            "a failed change leaves the packet as it was"
        );
    }
}
