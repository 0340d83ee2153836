//! veth pairs between namespaces.

use crate::{Netns, Result, lab_err, run_host, unique_id};

/// One end of a [`VethPair`]: an interface name inside a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethEnd {
    ns: String,
    name: String,
}

impl VethEnd {
    /// Interface name (unique on the machine for generated names, ≤ 15 characters).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Name of the namespace the interface is in.
    pub fn netns(&self) -> &str {
        &self.ns
    }

    fn ip(&self, args: &[&str]) -> Result<String> {
        let mut argv = vec!["ip", "-n", &self.ns];
        argv.extend_from_slice(args);
        run_host(&argv)
    }

    /// Adds an address with prefix, IPv4 (`192.0.2.1/24`) or IPv6
    /// (`2001:db8::1/64`; added with `nodad`, so it is usable at once).
    pub fn add_addr(&self, cidr: &str) -> Result<()> {
        if !cidr.contains('/') {
            return Err(lab_err!("address {cidr} needs a prefix length"));
        }
        let mut args = vec!["addr", "add", cidr, "dev", &self.name];
        if cidr.contains(':') {
            args.push("nodad");
        }
        self.ip(&args).map(drop)
    }

    /// Sets the MTU.
    pub fn set_mtu(&self, mtu: u32) -> Result<()> {
        self.ip(&["link", "set", "dev", &self.name, "mtu", &mtu.to_string()])
            .map(drop)
    }

    /// Sets the MAC address (`02:00:00:00:00:01` form).
    pub fn set_mac(&self, mac: &str) -> Result<()> {
        self.ip(&["link", "set", "dev", &self.name, "address", mac])
            .map(drop)
    }

    /// Brings the interface up.
    pub fn up(&self) -> Result<()> {
        self.ip(&["link", "set", "dev", &self.name, "up"]).map(drop)
    }

    /// Brings the interface down.
    pub fn down(&self) -> Result<()> {
        self.ip(&["link", "set", "dev", &self.name, "down"])
            .map(drop)
    }

    /// The interface's MAC address, lower case, colon separated.
    pub fn mac(&self) -> Result<String> {
        let out = self.ip(&["-o", "link", "show", "dev", &self.name])?;
        let mut words = out.split_whitespace();
        words
            .find(|w| *w == "link/ether")
            .and_then(|_| words.next())
            .map(str::to_string)
            .ok_or_else(|| lab_err!("no link/ether in `{}`", out.trim()))
    }

    /// Installs a static neighbour entry on this interface
    /// (`ip neigh replace IP lladdr MAC dev IF nud permanent`).
    pub fn add_neigh(&self, ip: &str, mac: &str) -> Result<()> {
        self.ip(&[
            "neigh",
            "replace",
            ip,
            "lladdr",
            mac,
            "dev",
            &self.name,
            "nud",
            "permanent",
        ])
        .map(drop)
    }
}

/// A veth pair whose ends were created directly inside two namespaces
/// (`ip link add A netns NS1 type veth peer name B netns NS2`), so nothing
/// appears in the root namespace. Deleted on drop (deleting one end deletes both;
/// deleting either namespace does too).
#[derive(Debug)]
pub struct VethPair {
    a: VethEnd,
    b: VethEnd,
}

impl VethPair {
    /// Creates a pair with generated names `cw<pid36>-<n36>a` / `…b`, end `a` in
    /// `ns_a` and end `b` in `ns_b` (which may be the same namespace). Links are down.
    pub fn new(ns_a: &Netns, ns_b: &Netns) -> Result<VethPair> {
        let stem = format!("cw{}", unique_id());
        Self::with_names(ns_a, &format!("{stem}a"), ns_b, &format!("{stem}b"))
    }

    /// Creates a pair with chosen interface names (names only need to be unique
    /// inside their namespace, e.g. `eth0` in both). Links are down.
    pub fn with_names(ns_a: &Netns, name_a: &str, ns_b: &Netns, name_b: &str) -> Result<VethPair> {
        for n in [name_a, name_b] {
            if n.is_empty() || n.len() > crate::MAX_IFNAME {
                return Err(lab_err!("bad interface name {n:?} (1..=15 bytes)"));
            }
        }
        run_host(&[
            "ip",
            "link",
            "add",
            name_a,
            "netns",
            ns_a.name(),
            "type",
            "veth",
            "peer",
            "name",
            name_b,
            "netns",
            ns_b.name(),
        ])?;
        Ok(VethPair {
            a: VethEnd {
                ns: ns_a.name().to_string(),
                name: name_a.to_string(),
            },
            b: VethEnd {
                ns: ns_b.name().to_string(),
                name: name_b.to_string(),
            },
        })
    }

    /// Creates a pair between `ns_a` and `ns_b`, gives each end an address
    /// (`cidr_a`, `cidr_b`, with prefix) and brings both up.
    pub fn connect(ns_a: &Netns, cidr_a: &str, ns_b: &Netns, cidr_b: &str) -> Result<VethPair> {
        let pair = Self::new(ns_a, ns_b)?;
        pair.a.add_addr(cidr_a)?;
        pair.b.add_addr(cidr_b)?;
        pair.a.up()?;
        pair.b.up()?;
        Ok(pair)
    }

    /// The end in the first namespace.
    pub fn a(&self) -> &VethEnd {
        &self.a
    }

    /// The end in the second namespace.
    pub fn b(&self) -> &VethEnd {
        &self.b
    }

    /// Sets both ends' MTU.
    pub fn set_mtu(&self, mtu: u32) -> Result<()> {
        self.a.set_mtu(mtu)?;
        self.b.set_mtu(mtu)
    }

    /// Brings both ends up.
    pub fn up(&self) -> Result<()> {
        self.a.up()?;
        self.b.up()
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        // Either end may be gone already (its namespace deleted first): not an error.
        for end in [&self.a, &self.b] {
            if std::path::Path::new(&format!("/run/netns/{}", end.ns)).exists()
                && end.ip(&["link", "del", "dev", &end.name]).is_ok()
            {
                return;
            }
        }
    }
}
