//! `statsfs-kvm`: runs a few small VMs on /dev/kvm and serves their statistics (the VMM's
//! own and the kernel's) through a FUSE mount and HTTP until Ctrl-C or `--duration`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches, Parser};
use statsfs_kvm::{Options, Vmm};

/// Run KVM guests and serve their statistics with statsfs.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Virtual machines.
    #[arg(long, default_value_t = 2)]
    vms: usize,
    /// vCPUs per VM.
    #[arg(long, default_value_t = 2)]
    vcpus: usize,
    /// Where to mount the filesystem view: an empty directory, or a new one in an existing
    /// directory (default: a new private directory under $XDG_RUNTIME_DIR, /run for root).
    #[arg(long)]
    mount: Option<PathBuf>,
    /// Do not mount the filesystem view.
    #[arg(long)]
    no_mount: bool,
    /// HTTP address (loopback by default; port 0 picks a free one). When the default port
    /// is taken a free one is used instead; an address given here must be free.
    #[arg(long, default_value = DEFAULT_HTTP)]
    http: SocketAddr,
    /// Stop after this many seconds, 0 up to a year (default: run until Ctrl-C).
    #[arg(long, value_parser = statsfs_kvm::cli::duration, allow_negative_numbers = true)]
    duration: Option<Duration>,
    /// Microseconds a vCPU stays halted before the VMM wakes it (0: at once; at most 10 s).
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=statsfs_kvm::cli::MAX_PACE_US))]
    pace_us: u64,
    /// Simulate the vCPUs even when /dev/kvm exists.
    #[arg(long)]
    simulate: bool,
}

/// Where the demo serves HTTP unless told otherwise.
const DEFAULT_HTTP: &str = "127.0.0.1:9190";

fn main() -> std::process::ExitCode {
    let matches = Args::command().get_matches();
    // An address the user typed must be honoured or refused, never silently replaced.
    let http_explicit =
        matches.value_source("http") == Some(clap::parser::ValueSource::CommandLine);
    let args = match Args::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    let opts = Options {
        vms: args.vms,
        vcpus: args.vcpus,
        pace: (args.pace_us > 0).then(|| Duration::from_micros(args.pace_us)),
        count: true,
        simulate: args.simulate,
    };
    // The mount point before anything starts, so a bad --mount changes nothing. The
    // default is a fresh private directory (statsfs_fuse::mountpoint), never a predictable
    // name in /tmp where another user could plant a link; both go away on exit if made here.
    let mount_point = match (args.no_mount, &args.mount) {
        (true, _) => None,
        (false, Some(p)) => match statsfs_fuse::MountPoint::at(p) {
            Ok(mp) => Some(Ok(mp)),
            Err(e) => {
                eprintln!("statsfs-kvm: cannot mount on {}: {e}", p.display());
                return std::process::ExitCode::FAILURE;
            }
        },
        (false, None) => Some(statsfs_fuse::MountPoint::private("statsfs-kvm-")),
    };
    let vmm = match Vmm::start(opts) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("statsfs-kvm: cannot start the VMs: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match &vmm.simulated {
        None => println!(
            "statsfs-kvm: {} VMs x {} vCPUs running real guests on /dev/kvm; kernel statistics {}",
            args.vms,
            args.vcpus,
            if vmm.kernel_stats {
                "imported from KVM_GET_STATS_FD"
            } else if args.vms == 0 {
                "none (no VM to read them from)"
            } else {
                "unavailable (no KVM_GET_STATS_FD)"
            }
        ),
        Some(why) => println!(
            "statsfs-kvm: DEGRADED: no usable /dev/kvm ({why}); simulating {} vCPUs in user space, without kernel statistics",
            args.vms * args.vcpus
        ),
    }

    // Dropped before mount_point (declared earlier), so the directory goes after the mount.
    let mount = match &mount_point {
        None => {
            println!("  filesystem: not mounted (--no-mount)");
            None
        }
        Some(Err(e)) => {
            println!("  filesystem: DEGRADED: no mount point ({e}); serving HTTP only");
            None
        }
        Some(Ok(mp)) => {
            let opts = statsfs_fuse::Options::default();
            match statsfs_fuse::mount(&vmm.registry, mp.path(), opts) {
                Ok(m) => {
                    let d = mp.path().display();
                    println!("  filesystem: {d}   try: ls {d}/kvm; cat {d}/kvm/exits; cat {d}/kvm/.statsfs; echo 0 > {d}/kvm/vmm_exits");
                    Some(m)
                }
                Err(e) => {
                    println!("  filesystem: DEGRADED: FUSE unavailable ({e}); serving HTTP only");
                    None
                }
            }
        }
    };

    let config = |addr| statsfs_http::Config {
        addr,
        prefix: "statsfs".into(),
        ..statsfs_http::Config::default()
    };
    let server = match statsfs_http::Server::start(&vmm.registry, config(args.http)) {
        Err(e) if http_explicit => {
            eprintln!("statsfs-kvm: cannot serve HTTP on {} ({e})", args.http);
            return std::process::ExitCode::FAILURE;
        }
        Err(e) => {
            println!(
                "  http: the default address {} is not available ({e}); using a free port",
                args.http
            );
            statsfs_http::Server::start(
                &vmm.registry,
                config(SocketAddr::from(([127, 0, 0, 1], 0))),
            )
        }
        ok => ok,
    };
    match &server {
        Ok(s) => {
            let a = s.addr();
            println!("  http:       curl http://{a}/metrics   (also /snapshot.json, /schema.json, ?path=kvm/...)");
            if !a.ip().is_loopback() {
                println!("  http: WARNING: {a} is not a loopback address: anyone who can reach this host can read these statistics");
            }
        }
        Err(e) => println!("  http: DEGRADED: cannot serve HTTP ({e})"),
    }
    if !vmm.kernel_drift.is_empty() {
        let drift: Vec<String> = vmm.kernel_drift.iter().map(|d| d.to_string()).collect();
        println!("  kernel stats vs schemas/kvm.toml: {}", drift.join("; "));
    }
    match args.duration {
        Some(d) => println!("  running for {} s", d.as_secs_f64()),
        None => println!("  Ctrl-C to stop"),
    }

    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    if let Err(e) = ctrlc::set_handler(move || s.store(true, Relaxed)) {
        eprintln!("statsfs-kvm: no Ctrl-C handler ({e}); use --duration");
    }
    let start = Instant::now();
    let limit = args.duration;
    while !stop.load(Relaxed) && limit.is_none_or(|l| start.elapsed() < l) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let exits = vmm.top.lookup("vmm_exits").map(|v| v.read()).unwrap_or(0);
    drop(server);
    drop(mount);
    vmm.stop();
    println!(
        "statsfs-kvm: stopped after {:.1} s; {exits} exits handled",
        start.elapsed().as_secs_f64()
    );
    std::process::ExitCode::SUCCESS
}
