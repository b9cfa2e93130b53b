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
}
