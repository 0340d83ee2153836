//! Ethernet ports: probe, configure, start/stop, stats, and per-lcore queue handles.

use std::cell::Cell;
use std::ffi::{CStr, CString, c_char};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use dpdk_sys as sys;

use crate::eal::ensure_ready;
use crate::error::{Direction, Error};
use crate::mbuf::{Burst, Mbuf};
use crate::mempool::Mempool;

/// How to set up a port in [`Port::configure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortConfig {
    /// Receive queues (one per worker lcore, usually).
    pub rx_queues: u16,
    /// Transmit queues (one per worker lcore, usually).
    pub tx_queues: u16,
    /// Receive descriptors per queue (adjusted to the device's limits).
    pub rx_descriptors: u16,
    /// Transmit descriptors per queue (adjusted to the device's limits).
    pub tx_descriptors: u16,
    /// MTU to set; `None` keeps the device's default (1500).
    pub mtu: Option<u16>,
    /// MAC address to set; `None` keeps the device's.
    pub mac: Option<[u8; 6]>,
    /// Enable promiscuous mode.
    pub promiscuous: bool,
    /// Spread flows over the rx queues by RSS (IP/TCP/UDP hash, masked by what the
    /// device supports); only used when `rx_queues > 1`.
    pub rss: bool,
}

impl Default for PortConfig {
    fn default() -> Self {
        PortConfig {
            rx_queues: 1,
            tx_queues: 1,
            rx_descriptors: 1024,
            tx_descriptors: 1024,
            mtu: None,
            mac: None,
            promiscuous: false,
            rss: true,
        }
    }
}

/// Link state from `rte_eth_link_get_nowait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkState {
    /// Link is up.
    pub up: bool,
    /// Speed in Mbit/s; 0 when unknown.
    pub speed_mbps: u32,
    /// Full duplex.
    pub full_duplex: bool,
}

/// Basic port counters from `rte_eth_stats_get`. Which ones a PMD fills varies
/// (`net_ring` counts packets but not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PortStats {
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Erroneous received packets.
    pub rx_errors: u64,
    /// Failed transmissions.
    pub tx_errors: u64,
    /// Packets dropped by the hardware because no rx descriptor was free.
    pub rx_missed: u64,
    /// Receive mbuf allocation failures.
    pub rx_nombuf: u64,
}

/// Port ids owned by a live [`Port`] (and its handles): a second `configure` of the
/// same device would hand out a second set of queue handles.
static CLAIMED: [AtomicBool; sys::RTE_MAX_ETHPORTS as usize] =
    [const { AtomicBool::new(false) }; sys::RTE_MAX_ETHPORTS as usize];

fn claim(port_id: u16) -> bool {
    CLAIMED
        .get(usize::from(port_id))
        .is_some_and(|c| !c.swap(true, Ordering::AcqRel))
}

/// State shared between a [`Port`], its queue handles and its monitors.
#[derive(Debug)]
struct Shared {
    id: u16,
    name: String,
    rx_taken: Box<[AtomicBool]>,
    tx_taken: Box<[AtomicBool]>,
    /// True while the ethdev is open. Readers (stats, link) hold the read lock so a
    /// close cannot free the device under them.
    open: RwLock<bool>,
    /// The CLAIMED entry was given back.
    released: AtomicBool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.release();
    }
}

impl Shared {
    fn release(&self) {
        if !self.released.swap(true, Ordering::AcqRel) {
            CLAIMED[usize::from(self.id)].store(false, Ordering::Release);
        }
    }

    fn handles_alive(&self) -> bool {
        self.rx_taken
            .iter()
            .chain(self.tx_taken.iter())
            .any(|t| t.load(Ordering::Acquire))
    }

    fn stats(&self) -> Result<PortStats, Error> {
        let open = self.open.read().unwrap_or_else(|e| e.into_inner());
        if !*open {
            return Err(Error::rte("rte_eth_stats_get", &self.name, libc::ENODEV));
        }
        let mut s = sys::rte_eth_stats::default();
        // SAFETY: the port is open (read lock held against close) and s is valid.
        let ret = unsafe { sys::rte_eth_stats_get(self.id, &raw mut s) };
        Error::check("rte_eth_stats_get", &self.name, ret)?;
        Ok(PortStats {
            rx_packets: s.ipackets,
            tx_packets: s.opackets,
            rx_bytes: s.ibytes,
            tx_bytes: s.obytes,
            rx_errors: s.ierrors,
            tx_errors: s.oerrors,
            rx_missed: s.imissed,
            rx_nombuf: s.rx_nombuf,
        })
    }

    fn link(&self) -> Result<LinkState, Error> {
        let open = self.open.read().unwrap_or_else(|e| e.into_inner());
        if !*open {
            return Err(Error::rte(
                "rte_eth_link_get_nowait",
                &self.name,
                libc::ENODEV,
            ));
        }
        let mut l = sys::rte_eth_link::default();
        // SAFETY: the port is open (read lock held) and l is valid.
        let ret = unsafe { sys::rte_eth_link_get_nowait(self.id, &raw mut l) };
        Error::check("rte_eth_link_get_nowait", &self.name, ret)?;
        Ok(LinkState {
            up: u32::from(l.link_status()) == sys::RTE_ETH_LINK_UP,
            speed_mbps: if l.link_speed == sys::RTE_ETH_SPEED_NUM_UNKNOWN {
                0
            } else {
                l.link_speed
            },
            full_duplex: u32::from(l.link_duplex()) == sys::RTE_ETH_LINK_FULL_DUPLEX,
        })
    }
}

/// A configured ethdev port.
///
/// Obtained from [`Port::configure`]; starts stopped. One `Port` per device at a time:
/// configuring a device again fails until the `Port` is closed, or it and all its queue
/// handles and monitors are dropped. Dropping a `Port` leaves the device as it is
/// (still configured, maybe running): call [`Port::close`] to release it.
#[derive(Debug)]
pub struct Port {
    shared: Arc<Shared>,
    driver: String,
    rx_queues: u16,
    tx_queues: u16,
    rx_descriptors: u16,
    tx_descriptors: u16,
    started: bool,
    /// The PMD leaves `mbuf->port` unset on rx (net_ring passes mbufs through as they
    /// were sent), so the rx handle writes it. Measured cost on net_ring: ~5 ns per
    /// packet in an alloc/tx/rx/free loop (67 -> 48 Mpps without hugepages); benchmark
    /// pipelines on net_null, which sets the port itself.
    rx_sets_port: bool,
}

fn port_name(port_id: u16) -> Option<String> {
    let mut buf = [0 as c_char; sys::RTE_ETH_NAME_MAX_LEN as usize];
    // SAFETY: buf has RTE_ETH_NAME_MAX_LEN bytes, the size DPDK writes at most.
    let ret = unsafe { sys::rte_eth_dev_get_name_by_port(port_id, buf.as_mut_ptr()) };
    if ret != 0 {
        return None;
    }
    // SAFETY: DPDK wrote a NUL-terminated name into buf.
    Some(
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

fn port_by_name(name: &CStr) -> Option<u16> {
    let mut id = 0u16;
    // SAFETY: name is a valid C string and id a valid out pointer.
    let ret = unsafe { sys::rte_eth_dev_get_port_by_name(name.as_ptr(), &raw mut id) };
    (ret == 0).then_some(id)
}

/// The first port matching `devargs` through the ethdev iterator (handles names that
/// differ from the devargs' first word, e.g. short PCI addresses).
fn port_by_devargs(devargs: &CStr) -> Option<u16> {
    let mut iter = sys::rte_dev_iterator::default();
    // SAFETY: iter is a valid zeroed iterator and devargs a valid C string.
    if unsafe { sys::rte_eth_iterator_init(&raw mut iter, devargs.as_ptr()) } != 0 {
        return None;
    }
    // SAFETY: iter was initialised above.
    let id = unsafe { sys::rte_eth_iterator_next(&raw mut iter) };
    // SAFETY: iter was initialised above; cleanup is needed when not iterated to the end.
    unsafe { sys::rte_eth_iterator_cleanup(&raw mut iter) };
    (u32::from(id) < sys::RTE_MAX_ETHPORTS).then_some(id)
}

fn dev_info(port_id: u16, name: &str) -> Result<sys::rte_eth_dev_info, Error> {
    let mut info = sys::rte_eth_dev_info::default();
    // SAFETY: the port id is valid (checked by caller or DPDK returns -ENODEV) and info
    // is a valid out struct.
    let ret = unsafe { sys::rte_eth_dev_info_get(port_id, &raw mut info) };
    Error::check("rte_eth_dev_info_get", name, ret)?;
    Ok(info)
}

impl Port {
    /// Attaches a device from devargs and returns its port id: a PCI address
    /// (`0000:01:00.0`) or a vdev (`net_af_packet0,iface=veth0`,
    /// `net_pcap0,rx_pcap=a.pcap,tx_pcap=b.pcap`, `net_ring0`, `net_null0,size=64`).
    ///
    /// If a port with the devargs' name already exists (e.g. given through `--vdev`),
    /// returns it without probing again.
    pub fn probe(devargs: &str) -> Result<u16, Error> {
        ensure_ready()?;
        let name = devargs.split(',').next().unwrap_or("").trim();
        if name.is_empty() {
            return Err(Error::InvalidArgument {
                call: "rte_dev_probe",
                reason: format!("devargs {devargs:?} name no device"),
            });
        }
        let nul = |s: &str| {
            CString::new(s).map_err(|_| Error::InvalidArgument {
                call: "rte_dev_probe",
                reason: format!("devargs {devargs:?} contain a NUL byte"),
            })
        };
        let cname = nul(name)?;
        let cargs = nul(devargs)?;
        if let Some(id) = port_by_name(&cname) {
            return Ok(id);
        }
        // SAFETY: the EAL is up and cargs is a valid C string (DPDK copies it).
        let ret = unsafe { sys::rte_dev_probe(cargs.as_ptr()) };
        if ret == -libc::EFAULT {
            // What rte_dev_probe returns when no bus claims the devargs.
            return Err(Error::Rte {
                call: "rte_dev_probe",
                subject: devargs.to_owned(),
                errno: libc::EFAULT,
                text: "no bus or driver recognises these devargs".to_owned(),
            });
        }
        Error::check("rte_dev_probe", devargs, ret)?;
        port_by_name(&cname)
            .or_else(|| port_by_devargs(&cargs))
            .ok_or_else(|| Error::rte("rte_eth_dev_get_port_by_name", devargs, libc::ENODEV))
    }

    /// Configures port `port_id` (stopped) with `cfg`, its rx queues filled from `pool`.
    pub fn configure(port_id: u16, cfg: &PortConfig, pool: &Mempool) -> Result<Port, Error> {
        ensure_ready()?;
        // SAFETY: any id may be checked.
        if unsafe { sys::rte_eth_dev_is_valid_port(port_id) } == 0 {
            return Err(Error::rte(
                "rte_eth_dev_configure",
                format!("port {port_id}"),
                libc::ENODEV,
            ));
        }
        let name = port_name(port_id).unwrap_or_else(|| format!("port{port_id}"));
        if !claim(port_id) {
            return Err(Error::InvalidArgument {
                call: "rte_eth_dev_configure",
                reason: format!(
                    "port {port_id} ({name}) is already configured by a live Port; close it first"
                ),
            });
        }
        // Gives the claim back if configuration fails (the Port takes it over on success).
        struct Unclaim(u16, bool);
        impl Drop for Unclaim {
            fn drop(&mut self) {
                if self.1 {
                    CLAIMED[usize::from(self.0)].store(false, Ordering::Release);
                }
            }
        }
        let mut unclaim = Unclaim(port_id, true);
        let info = dev_info(port_id, &name)?;
        let driver = if info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: driver_name is the PMD's static NUL-terminated name.
            unsafe { CStr::from_ptr(info.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        for (direction, requested, max) in [
            (Direction::Rx, cfg.rx_queues, info.max_rx_queues),
            (Direction::Tx, cfg.tx_queues, info.max_tx_queues),
        ] {
            if requested == 0 {
                return Err(Error::InvalidArgument {
                    call: "rte_eth_dev_configure",
                    reason: format!("port {port_id} ({name}): 0 {direction} queues requested"),
                });
            }
            if requested > max {
                return Err(Error::QueueLimit {
                    port_id,
                    port: name,
                    direction,
                    requested,
                    max,
                });
            }
        }

        let mut conf = sys::rte_eth_conf::default();
        if cfg.rss && cfg.rx_queues > 1 {
            let wanted =
                u64::from(sys::RTE_ETH_RSS_IP | sys::RTE_ETH_RSS_TCP | sys::RTE_ETH_RSS_UDP);
            let rss_hf = wanted & info.flow_type_rss_offloads;
            if rss_hf != 0 {
                conf.rxmode.mq_mode = sys::rte_eth_rx_mq_mode_RTE_ETH_MQ_RX_RSS;
                conf.rx_adv_conf.rss_conf.rss_key = std::ptr::null_mut();
                conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
            }
        }
        // SAFETY: valid port, conf is a fully initialised rte_eth_conf.
        let ret = unsafe {
            sys::rte_eth_dev_configure(port_id, cfg.rx_queues, cfg.tx_queues, &raw const conf)
        };
        Error::check("rte_eth_dev_configure", &name, ret)?;

        if let Some(mtu) = cfg.mtu {
            // SAFETY: valid, configured port.
            let ret = unsafe { sys::rte_eth_dev_set_mtu(port_id, mtu) };
            if ret < 0 {
                let mut current = 0u16;
                // SAFETY: valid port; current is a valid out pointer.
                let got = unsafe { sys::rte_eth_dev_get_mtu(port_id, &raw mut current) };
                // vdevs without an MTU op return -ENOTSUP even for the MTU they have.
                let same = got == 0 && current == mtu;
                if !(ret == -libc::ENOTSUP && same) {
                    return Err(Error::rte("rte_eth_dev_set_mtu", &name, ret));
                }
            }
        }

        let mut rxd = cfg.rx_descriptors;
        let mut txd = cfg.tx_descriptors;
        // SAFETY: valid port; rxd and txd are valid in/out pointers.
        let ret =
            unsafe { sys::rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &raw mut rxd, &raw mut txd) };
        Error::check("rte_eth_dev_adjust_nb_rx_tx_desc", &name, ret)?;

        // SAFETY: valid port.
        let socket = unsafe { sys::rte_eth_dev_socket_id(port_id) };
        // SOCKET_ID_ANY (-1) as unsigned is what DPDK expects for "any".
        let socket = socket as u32;
        for q in 0..cfg.rx_queues {
            // SAFETY: configured port, q < rx_queues, default rxconf (null), live pool.
            let ret = unsafe {
                sys::rte_eth_rx_queue_setup(
                    port_id,
                    q,
                    rxd,
                    socket,
                    std::ptr::null(),
                    pool.as_ptr(),
                )
            };
            Error::check("rte_eth_rx_queue_setup", &name, ret)?;
        }
        for q in 0..cfg.tx_queues {
            // SAFETY: configured port, q < tx_queues, default txconf (null).
            let ret =
                unsafe { sys::rte_eth_tx_queue_setup(port_id, q, txd, socket, std::ptr::null()) };
            Error::check("rte_eth_tx_queue_setup", &name, ret)?;
        }

        if let Some(mac) = cfg.mac {
            let mut addr = sys::rte_ether_addr { addr_bytes: mac };
            // SAFETY: valid port; addr is a valid rte_ether_addr.
            let ret = unsafe { sys::rte_eth_dev_default_mac_addr_set(port_id, &raw mut addr) };
            Error::check("rte_eth_dev_default_mac_addr_set", &name, ret)?;
        }

        if cfg.promiscuous {
            // SAFETY: valid port.
            let ret = unsafe { sys::rte_eth_promiscuous_enable(port_id) };
            Error::check("rte_eth_promiscuous_enable", &name, ret)?;
        } else {
            // Not every PMD can turn it off (-ENOTSUP): that is fine.
            // SAFETY: valid port.
            let _ = unsafe { sys::rte_eth_promiscuous_disable(port_id) };
        }

        let flags = |n: u16| (0..n).map(|_| AtomicBool::new(false)).collect();
        unclaim.1 = false;
        Ok(Port {
            shared: Arc::new(Shared {
                id: port_id,
                name,
                rx_taken: flags(cfg.rx_queues),
                tx_taken: flags(cfg.tx_queues),
                open: RwLock::new(true),
                released: AtomicBool::new(false),
            }),
            driver: driver.clone(),
            rx_queues: cfg.rx_queues,
            tx_queues: cfg.tx_queues,
            rx_descriptors: rxd,
            tx_descriptors: txd,
            started: false,
            rx_sets_port: driver == "net_ring",
        })
    }

    /// Starts the port (`rte_eth_dev_start`).
    pub fn start(&mut self) -> Result<(), Error> {
        if self.started {
            return Ok(());
        }
        // SAFETY: the port is configured and open (self exists).
        let ret = unsafe { sys::rte_eth_dev_start(self.id()) };
        Error::check("rte_eth_dev_start", self.name(), ret)?;
        self.started = true;
        Ok(())
    }

    /// Stops the port (`rte_eth_dev_stop`). Refused with [`Error::PortBusy`] while any
    /// [`RxQueue`] / [`TxQueue`] handle of this port is alive: stop the lcores and let
    /// them drop their handles (after draining their [`TxBuffer`]s) first.
    pub fn stop(&mut self) -> Result<(), Error> {
        if !self.started {
            return Ok(());
        }
        self.ensure_idle()?;
        // SAFETY: the port is open and no queue handle can poll it (checked above, and
        // new handles need &self, which &mut self excludes).
        let ret = unsafe { sys::rte_eth_dev_stop(self.id()) };
        Error::check("rte_eth_dev_stop", self.name(), ret)?;
        self.started = false;
        Ok(())
    }

    /// Stops (if started) and closes the port, releasing the device; for `net_pcap` this
    /// flushes and closes the tx pcap file. With queue handles still alive it fails with
    /// [`Error::PortBusy`] and leaves the device open.
    pub fn close(mut self) -> Result<(), Error> {
        self.ensure_idle()?;
        self.stop()?;
        let mut open = self.shared.open.write().unwrap_or_else(|e| e.into_inner());
        *open = false;
        // SAFETY: stopped, no queue handles, monitors excluded by the write lock.
        let ret = unsafe { sys::rte_eth_dev_close(self.id()) };
        drop(open);
        // The device is gone (vdevs free the port id): it may be probed and configured
        // again even while monitors hold the shared state.
        self.shared.release();
        Error::check("rte_eth_dev_close", self.name(), ret).map(|_| ())
    }

    fn ensure_idle(&self) -> Result<(), Error> {
        if self.shared.handles_alive() {
            Err(Error::PortBusy {
                port_id: self.id(),
                port: self.name().to_owned(),
            })
        } else {
            Ok(())
        }
    }

    /// The port id.
    pub fn id(&self) -> u16 {
        self.shared.id
    }

    /// The ethdev name (`net_ring0`, `0000:01:00.0`).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The PMD's driver name (`net_ring`, `net_ixgbe`).
    pub fn driver(&self) -> &str {
        &self.driver
    }

    /// True between [`Port::start`] and [`Port::stop`].
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Configured rx queue count.
    pub fn rx_queue_count(&self) -> u16 {
        self.rx_queues
    }

    /// Configured tx queue count.
    pub fn tx_queue_count(&self) -> u16 {
        self.tx_queues
    }

    /// Rx and tx descriptors per queue after adjustment to the device's limits.
    pub fn descriptors(&self) -> (u16, u16) {
        (self.rx_descriptors, self.tx_descriptors)
    }

    /// The port's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        let mut addr = sys::rte_ether_addr::default();
        // SAFETY: valid open port; addr is a valid out struct.
        let _ = unsafe { sys::rte_eth_macaddr_get(self.id(), &raw mut addr) };
        addr.addr_bytes
    }

    /// Link state without waiting (down when the PMD cannot tell).
    pub fn link(&self) -> LinkState {
        self.shared.link().unwrap_or_default()
    }

    /// Port counters. Callable from any thread while lcores poll the queues.
    pub fn stats(&self) -> Result<PortStats, Error> {
        self.shared.stats()
    }

    /// Zeroes the port counters.
    pub fn reset_stats(&self) -> Result<(), Error> {
        // SAFETY: valid open port.
        let ret = unsafe { sys::rte_eth_stats_reset(self.id()) };
        Error::check("rte_eth_stats_reset", self.name(), ret).map(|_| ())
    }

    /// A cheap, thread-safe handle for stats and link state (for metrics threads).
    pub fn monitor(&self) -> PortMonitor {
        PortMonitor {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The handle for rx queue `q`; one per queue at a time.
    ///
    /// # Panics
    /// When `q` is not a configured queue or its handle is already out (see
    /// [`Port::try_rx_queue`]).
    pub fn rx_queue(&self, q: u16) -> RxQueue {
        self.try_rx_queue(q).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The handle for tx queue `q`; one per queue at a time.
    ///
    /// # Panics
    /// When `q` is not a configured queue or its handle is already out (see
    /// [`Port::try_tx_queue`]).
    pub fn tx_queue(&self, q: u16) -> TxQueue {
        self.try_tx_queue(q).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The handle for rx queue `q`, or an error when out of range or already taken.
    pub fn try_rx_queue(&self, q: u16) -> Result<RxQueue, Error> {
        self.take(Direction::Rx, q)?;
        Ok(RxQueue {
            port: self.id(),
            queue: q,
            set_port: self.rx_sets_port,
            shared: Arc::clone(&self.shared),
            _not_sync: PhantomData,
        })
    }

    /// The handle for tx queue `q`, or an error when out of range or already taken.
    pub fn try_tx_queue(&self, q: u16) -> Result<TxQueue, Error> {
        self.take(Direction::Tx, q)?;
        Ok(TxQueue {
            port: self.id(),
            queue: q,
            shared: Arc::clone(&self.shared),
            _not_sync: PhantomData,
        })
    }

    fn take(&self, direction: Direction, q: u16) -> Result<(), Error> {
        let flags = match direction {
            Direction::Rx => &self.shared.rx_taken,
            Direction::Tx => &self.shared.tx_taken,
        };
        let unavailable = |reason| Error::QueueUnavailable {
            port_id: self.id(),
            port: self.name().to_owned(),
            direction,
            queue: q,
            reason,
        };
        let flag = flags
            .get(usize::from(q))
            .ok_or_else(|| unavailable("is not configured"))?;
        if flag.swap(true, Ordering::AcqRel) {
            return Err(unavailable("is already handed out"));
        }
        Ok(())
    }
}

/// Read-only, thread-safe view of a port's counters and link (`Clone + Send + Sync`).
/// After the port is closed its calls return an error.
#[derive(Debug, Clone)]
pub struct PortMonitor {
    shared: Arc<Shared>,
}

impl PortMonitor {
    /// The port id.
    pub fn id(&self) -> u16 {
        self.shared.id
    }

    /// The ethdev name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Port counters.
    pub fn stats(&self) -> Result<PortStats, Error> {
        self.shared.stats()
    }

    /// Link state without waiting.
    pub fn link(&self) -> Result<LinkState, Error> {
        self.shared.link()
    }
}

/// The only handle to one rx queue: `Send` (move it to its lcore) but not `Sync`.
#[derive(Debug)]
pub struct RxQueue {
    port: u16,
    queue: u16,
    set_port: bool,
    shared: Arc<Shared>,
    _not_sync: PhantomData<Cell<()>>,
}

impl RxQueue {
    /// Receives up to `burst`'s free capacity, appending; returns how many arrived.
    /// Returns 0 while the port is stopped.
    #[inline]
    pub fn rx<const N: usize>(&mut self, burst: &mut Burst<N>) -> usize {
        let spare = burst.spare().min(usize::from(u16::MAX)) as u16;
        if spare == 0 {
            return 0;
        }
        // SAFETY: this handle is the queue's only poller (&mut self, !Sync, one handle
        // per queue); the port cannot be closed while the handle lives; the free slots
        // of the burst can take `spare` pointers.
        let n = unsafe {
            let slots = burst.raw_ptr().add(burst.len());
            sys::shim_rte_eth_rx_burst(self.port, self.queue, slots, spare)
        };
        let start = burst.len();
        // SAFETY: the PMD wrote n <= spare owned mbufs into the free slots.
        unsafe { burst.assume_appended(usize::from(n)) };
        if self.set_port {
            for m in &mut burst.as_mut_slice()[start..] {
                m.set_port(self.port);
            }
        }
        usize::from(n)
    }

    /// The port id.
    pub fn port_id(&self) -> u16 {
        self.port
    }

    /// The queue id.
    pub fn queue_id(&self) -> u16 {
        self.queue
    }
}

impl Drop for RxQueue {
    fn drop(&mut self) {
        self.shared.rx_taken[usize::from(self.queue)].store(false, Ordering::Release);
    }
}

/// The only handle to one tx queue: `Send` (move it to its lcore) but not `Sync`.
#[derive(Debug)]
pub struct TxQueue {
    port: u16,
    queue: u16,
    shared: Arc<Shared>,
    _not_sync: PhantomData<Cell<()>>,
}

impl TxQueue {
    /// Sends from the front of `burst`; returns how many the PMD accepted. The unsent
    /// ones stay in `burst`, moved to its front. Sends nothing while the port is
    /// stopped.
    #[inline]
    pub fn tx<const N: usize>(&mut self, burst: &mut Burst<N>) -> usize {
        let len = burst.len().min(usize::from(u16::MAX)) as u16;
        if len == 0 {
            return 0;
        }
        // SAFETY: sole handle of the queue (see RxQueue::rx); the first len slots are
        // owned mbufs; the PMD takes ownership of the first n it accepts.
        let n = unsafe { sys::shim_rte_eth_tx_burst(self.port, self.queue, burst.raw_ptr(), len) };
        // SAFETY: the first n mbufs now belong to the PMD.
        unsafe { burst.forget_front(usize::from(n)) };
        usize::from(n)
    }

    /// Sends one mbuf; gives it back when the queue is full.
    #[inline]
    pub fn tx_one(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        let mut raw = m.as_ptr();
        // SAFETY: sole handle of the queue; on acceptance the PMD owns the mbuf.
        let n = unsafe { sys::shim_rte_eth_tx_burst(self.port, self.queue, &raw mut raw, 1) };
        if n == 1 {
            let _ = m.into_raw();
            Ok(())
        } else {
            Err(m)
        }
    }

    /// The port id.
    pub fn port_id(&self) -> u16 {
        self.port
    }

    /// The queue id.
    pub fn queue_id(&self) -> u16 {
        self.queue
    }
}

impl Drop for TxQueue {
    fn drop(&mut self) {
        self.shared.tx_taken[usize::from(self.queue)].store(false, Ordering::Release);
    }
}

/// Outcome of a [`TxBuffer`] flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlushResult {
    /// Mbufs the PMD accepted.
    pub sent: usize,
    /// Mbufs freed because the queue stayed full.
    pub dropped: usize,
}

impl std::ops::AddAssign for FlushResult {
    fn add_assign(&mut self, rhs: FlushResult) {
        self.sent += rhs.sent;
        self.dropped += rhs.dropped;
    }
}

/// Batches mbufs for one tx queue (one per lcore and queue) and sends them in bursts.
///
/// [`push`](TxBuffer::push) sends when the buffer fills (one attempt, dropping what
/// the queue refuses, as `rte_eth_tx_buffer` does); call [`flush`](TxBuffer::flush)
/// at the end of each poll iteration and, with retries, before stopping. Dropping a
/// `TxBuffer` frees unsent mbufs without sending them.
#[derive(Debug)]
pub struct TxBuffer<const N: usize = 32> {
    queue: TxQueue,
    burst: Burst<N>,
    total: FlushResult,
}

impl<const N: usize> TxBuffer<N> {
    /// An empty buffer in front of `queue`.
    pub fn new(queue: TxQueue) -> Self {
        TxBuffer {
            queue,
            burst: Burst::new(),
            total: FlushResult::default(),
        }
    }

    /// Queues `m`; when that fills the buffer, flushes without retries and reports it.
    #[inline]
    pub fn push(&mut self, m: Mbuf) -> FlushResult {
        if let Err(m) = self.burst.push(m) {
            // Cannot happen: the buffer is flushed whenever it fills. Keep it safe anyway.
            let r = self.flush(0);
            let _ = self.burst.push(m);
            return r;
        }
        if self.burst.is_full() {
            self.flush(0)
        } else {
            FlushResult::default()
        }
    }

    /// Sends what is buffered, retrying up to `retries` more times while the queue
    /// refuses some; what is still unsent after that is freed and counted as dropped.
    /// Never blocks beyond `retries + 1` tx calls.
    #[inline]
    pub fn flush(&mut self, retries: u32) -> FlushResult {
        let mut r = FlushResult::default();
        let mut attempts = 0;
        while !self.burst.is_empty() {
            r.sent += self.queue.tx(&mut self.burst);
            if attempts >= retries {
                break;
            }
            attempts += 1;
        }
        r.dropped = self.burst.len();
        self.burst.clear();
        self.total += r;
        r
    }

    /// Mbufs waiting to be sent.
    pub fn len(&self) -> usize {
        self.burst.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.burst.is_empty()
    }

    /// Everything sent and dropped by this buffer so far.
    pub fn totals(&self) -> FlushResult {
        self.total
    }

    /// The tx queue.
    pub fn queue(&mut self) -> &mut TxQueue {
        &mut self.queue
    }

    /// Frees anything unsent and returns the queue.
    pub fn into_queue(self) -> TxQueue {
        let TxBuffer { queue, burst, .. } = self;
        drop(burst);
        queue
    }
}
