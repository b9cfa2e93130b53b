//! The release link of `alongside` places the functions the node runs together at the front of
//! its code, in the order of `symbol-order.txt` (#22, memory): the kernel maps code in 64 KiB
//! runs around each page touched, so the same work scattered over the whole binary leaves most
//! of it resident. scripts/symbol-order.sh writes the list; docs/performance.md has the figures.
//! Only the release profile: a debug build's names differ, and its size does not matter.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=symbol-order.txt");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let list = std::path::Path::new(&dir).join("symbol-order.txt");
    // rustc links x86_64 Linux with its own lld, which reads the list; other targets and
    // linkers go without it.
    let lld = std::env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    if release && lld && list.exists() {
        println!(
            "cargo:rustc-link-arg-bin=alongside=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        // Names that are gone since the list was made are skipped without a word.
        println!("cargo:rustc-link-arg-bin=alongside=-Wl,--no-warn-symbol-ordering");
    }
    // Packed relative relocations: the loader reads a 2 MB table of them at every start, kept
    // resident; packed, a few KB. The binary then needs glibc 2.36 to run, so only when built on
    // such a system for itself (built where it runs, as docs/operations.md says), and not when
    // `NO_PACKED_RELOCS` is set, for a binary to be copied to an older system.
    println!("cargo:rerun-if-env-changed=NO_PACKED_RELOCS");
    let native = std::env::var("HOST").ok() == std::env::var("TARGET").ok();
    if release && lld && native && std::env::var_os("NO_PACKED_RELOCS").is_none() && glibc_2_36() {
        println!("cargo:rustc-link-arg-bin=alongside=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's C library is glibc 2.36 or later (`getconf` prints "glibc 2.36").
fn glibc_2_36() -> bool {
    let Ok(out) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text
        .trim()
        .trim_start_matches("glibc ")
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}
