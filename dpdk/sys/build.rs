//! Generates bindings to the system DPDK (>= 22.11) and compiles the C shim.
//!
//! Recipe and traps: shared/reference/dpdk.md. In short: probe with `pkg-config`, but
//! pass the *raw* `pkg-config --cflags libdpdk` output to both bindgen and `cc`,
//! because the pkg-config crate drops `-include rte_config.h` and `-march=corei7`,
//! without which DPDK's always-inline SSE code does not compile.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const MIN_VERSION: &str = "22.11";

fn raw_cflags() -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(["--cflags", "libdpdk"])
        .output()
        .expect("running `pkg-config --cflags libdpdk` (is pkg-config installed?)");
    assert!(
        out.status.success(),
        "`pkg-config --cflags libdpdk` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("pkg-config printed non-UTF-8");
    // Tokens are whitespace separated; `-include rte_config.h` is two tokens and must
    // stay in that order, which a plain split keeps.
    text.split_whitespace().map(str::to_owned).collect()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=shim/shim.c");
    println!("cargo:rerun-if-changed=shim/shim.h");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    // Emits the link lines for every library `libdpdk.pc` lists.
    let lib = pkg_config::Config::new()
        .atleast_version(MIN_VERSION)
        .probe("libdpdk")
        .unwrap_or_else(|e| {
            panic!("DPDK >= {MIN_VERSION} not found through pkg-config (apt-get install libdpdk-dev): {e}")
        });
    // Not listed by libdpdk.pc, yet they hold rte_vdev_init and rte_eth_from_rings.
    println!("cargo:rustc-link-lib=dylib=rte_bus_vdev");
    println!("cargo:rustc-link-lib=dylib=rte_net_ring");
    println!("cargo:version={}", lib.version);

    let cflags = raw_cflags();

    // The C shim: out-of-line copies of DPDK's inline functions, TLS and macros.
    let mut build = cc::Build::new();
    build
        .file("shim/shim.c")
        .include("shim")
        .opt_level(3)
        .warnings(true);
    for flag in &cflags {
        build.flag(flag);
    }
    build.compile("causeway_dpdk_shim");

    let bindings = bindgen::Builder::default()
        .header("shim/shim.h")
        .clang_args(&cflags)
        .clang_arg("-Ishim")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .allowlist_function("rte_.*|shim_.*")
        .allowlist_type("rte_.*")
        .allowlist_var("RTE_.*|rte_.*|SOCKET_ID_ANY|LCORE_ID_ANY|RING_F_.*")
        // RTE_BIT64(n) constants (offload and RSS flags) are invisible without it.
        .clang_macro_fallback()
        // Packed structs containing aligned ones (E0588) and bitfields that break
        // derive(Debug).
        .opaque_type("rte_arp_hdr")
        .opaque_type("rte_arp_ipv4")
        .opaque_type("rte_gtp_psc_generic_hdr")
        // A C value outside a Rust enum's variants would be UB.
        .default_enum_style(bindgen::EnumVariation::Consts)
        // Doxygen comments become broken doctests.
        .generate_comments(false)
        .derive_default(true)
        .layout_tests(false)
        .generate()
        .expect("generating DPDK bindings");

    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .expect("writing bindings.rs");
}
