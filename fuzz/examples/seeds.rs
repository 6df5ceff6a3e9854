//! Writes the `binary_stats` seeds (`corpus/binary_stats/`) with the encoder the runtime
//! uses for its own stats files, so the seeds are real files in KVM's layout:
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds`.

use statsfs_kvm_binary::{encode, stat_type, unit, Desc, BASE_POW2};

fn desc(name: &str, flags: u32, exponent: i16, size: u16, offset: u32, bucket: u32) -> Desc {
    Desc {
        flags,
        exponent,
        size,
        offset,
        bucket_size: bucket,
        name: name.into(),
    }
}

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/binary_stats");
    std::fs::create_dir_all(&dir)?;
    // A vCPU as KVM describes one: scalars of each type and unit, then histograms.
    let vcpu = [
        desc("exits", stat_type::CUMULATIVE, 0, 1, 0, 0),
        desc(
            "halt_wait_ns",
            stat_type::CUMULATIVE | unit::SECONDS,
            -9,
            1,
            8,
            0,
        ),
        desc(
            "guest_mode",
            stat_type::INSTANT | unit::BOOLEAN,
            0,
            1,
            16,
            0,
        ),
        desc(
            "pages_4k",
            stat_type::INSTANT | unit::BYTES | BASE_POW2,
            12,
            1,
            24,
            0,
        ),
        desc("max_wait", stat_type::PEAK | unit::CYCLES, 0, 1, 32, 0),
        desc(
            "halt_wait_hist",
            stat_type::LOG_HIST | unit::SECONDS,
            -9,
            8,
            40,
            0,
        ),
        desc(
            "halt_poll_hist",
            stat_type::LINEAR_HIST | unit::SECONDS,
            -9,
            4,
            104,
            1000,
        ),
    ];
    let data: Vec<u64> = (1..=17).map(|i| i * 1000 + i).collect();
    std::fs::write(dir.join("vcpu"), encode("kvm-1234/vcpu-0", &vcpu, &data))?;
    // A VM with no descriptors: header and id only.
    std::fs::write(dir.join("empty"), encode("kvm-1234", &[], &[]))?;
    // Offsets need not be multiples of 8, nor in order; a name of the full 47 bytes.
    let odd = [
        desc(&"n".repeat(47), stat_type::CUMULATIVE, 0, 1, 12, 0),
        desc("first", stat_type::INSTANT, 0, 1, 3, 0),
    ];
    let mut file = encode("kvm-1", &odd, &[]);
    file.extend_from_slice(&[0xa5; 20]);
    std::fs::write(dir.join("unaligned"), file)?;
    Ok(())
}
