//! The example runs and prints the tree's values.

#[test]
fn example_binary_prints_the_generated_values() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vmm-stats-example"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "vmm_vcpus 2\nvmm_exits 30\nvmm_io_out 6\nvmm_last_exit UNKNOWN\nvcpu0/vmm_last_exit IO\n2 value sets from schemas/vmm.toml\n"
    );
}
