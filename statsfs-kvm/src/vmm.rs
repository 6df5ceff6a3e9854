//! The VMM: N VMs with M vCPUs each on /dev/kvm, every vCPU on its own thread running a tiny
//! real-mode guest (port I/O out and in, an MMIO write, HLT, repeat), its exits counted in
//! the VMM's own statistics and the kernel's imported beside them. Without /dev/kvm the vCPU
//! threads simulate the same exits, so the tree and its backends still run.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as Clock};

use kvm_ioctls::{Kvm, VcpuExit, VcpuFd, VmFd};
use statsfs::{ErasedInstance, Instance, Registry, Source};

use crate::import::{open_stats, Sets};
use crate::stats::{VmmVcpuStats, VmmVmStats};

/// The guest, loaded at 0x1000 and entered in real mode:
/// `mov dx, 0x3f8; l: out dx, al; in al, dx; mov [0x8000], al; hlt; jmp l`.
/// 0x8000 lies outside the memory slot, so the store is an MMIO exit.
const GUEST: [u8; 11] = [
    0xba, 0xf8, 0x03, 0xee, 0xec, 0xa2, 0x00, 0x80, 0xf4, 0xeb, 0xf8,
];
const MEM_SIZE: usize = 0x4000;

/// VMM settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// VMs to create.
    pub vms: usize,
    /// vCPUs per VM.
    pub vcpus: usize,
    /// Sleep after each HLT before waking the vCPU (None: wake at once, full speed).
    pub pace: Option<Duration>,
    /// Count exits in the VMM's statistics (off only to measure what counting costs).
    pub count: bool,
    /// Use simulated vCPUs even if /dev/kvm exists.
    pub simulate: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            vms: 2,
            vcpus: 2,
            pace: Some(Duration::from_millis(1)),
            count: true,
            simulate: false,
        }
    }
}

/// Pause barrier: the vCPU threads park between runs while `paused` is set.
#[derive(Default)]
struct Pause {
    state: Mutex<(bool, usize)>,
    cv: Condvar,
}

/// One VM.
pub struct Vm {
    /// Its directory, `kvm/<tid>-<fd>/`.
    pub source: Source,
    /// Its VMM statistics.
    pub stats: Instance<VmmVmStats>,
    /// Its vCPUs' directories and VMM statistics.
    pub vcpus: Vec<(Source, Instance<VmmVcpuStats>)>,
    fd: Option<VmFd>,
    vcpu_fds: Vec<RawFd>,
    mem: usize,
}

impl Vm {
    /// The VM fd, when the VM is real.
    pub fn fd(&self) -> Option<&VmFd> {
        self.fd.as_ref()
    }

    /// The vCPU fds' numbers (the fds belong to the vCPU threads, open while they run), for
    /// independent reads such as a second stats fd.
    pub fn vcpu_fds(&self) -> &[RawFd] {
        &self.vcpu_fds
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if self.mem != 0 {
            // SAFETY: mapped in `create` with this size; the VM (and its vCPUs) are gone or
            // going, and the memory is not used after this.
            unsafe { libc::munmap(self.mem as *mut libc::c_void, MEM_SIZE) };
        }
    }
}

/// The running VMM.
pub struct Vmm {
    /// The served tree.
    pub registry: Registry,
    /// `kvm/`.
    pub top: Source,
    /// The VMs.
    pub vms: Vec<Vm>,
    /// Why the VMs are simulated, if they are.
    pub simulated: Option<String>,
    /// Whether the kernel's statistics are imported.
    pub kernel_stats: bool,
    run: Threads,
}

/// The vCPU threads and what stops them. Dropping it stops and joins them, so a `Vmm::start`
/// that fails half-way leaves no thread running behind its caller.
#[derive(Default)]
struct Threads {
    stop: Arc<AtomicBool>,
    pause: Arc<Pause>,
    handles: Vec<JoinHandle<()>>,
}

impl Threads {
    fn shutdown(&mut self) {
        self.stop.store(true, Relaxed);
        // Under the pause lock, so a thread between its stop check and its wait is woken.
        let mut s = self.pause.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 = false;
        self.pause.cv.notify_all();
        drop(s);
        for t in self.handles.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The most vCPU threads one VMM starts: each is a real thread (and with KVM a vCPU fd and
/// its state); beyond this a typo such as `--vcpus 10000` is refused at once instead of
/// failing after minutes of thread creation.
pub const MAX_VCPU_THREADS: usize = 4096;

fn vcpu_loop(
    mut vcpu: VcpuFd,
    st: Instance<VmmVcpuStats>,
    opts: Options,
    stop: Arc<AtomicBool>,
    pause: Arc<Pause>,
) {
    while !stop.load(Relaxed) {
        park(&pause, &stop);
        let count = opts.count;
        let t = count.then(Clock::now);
        let exit = vcpu.run();
        let ns = t.map_or(0, |t| t.elapsed().as_nanos() as u64);
        let reason: u32 = match exit {
            Ok(VcpuExit::IoOut(..)) => {
                if count {
                    st.vmm_io_out.inc()
                }
                2
            }
            Ok(VcpuExit::IoIn(_, data)) => {
                data.fill(0x2a);
                if count {
                    st.vmm_io_in.inc()
                }
                2
            }
            Ok(VcpuExit::MmioWrite(..)) => {
                if count {
                    st.vmm_mmio_write.inc()
                }
                6
            }
            Ok(VcpuExit::MmioRead(_, data)) => {
                data.fill(0);
                if count {
                    st.vmm_mmio_read.inc()
                }
                6
            }
            Ok(VcpuExit::Hlt) => {
                if count {
                    st.vmm_hlt.inc()
                }
                if let Some(p) = opts.pace {
                    nap(&pause, &stop, p);
                }
                if count {
                    st.vmm_wakeups.inc()
                }
                5
            }
            Ok(VcpuExit::Shutdown) => 8,
            Ok(_) => 0,
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => continue,
            Err(_) => 9,
        };
        if count {
            st.vmm_exits.inc();
            st.vmm_run_ns.add(ns);
            st.vmm_last_exit.store(reason, Relaxed);
        }
        if matches!(reason, 8 | 9) {
            break;
        }
    }
}

/// Simulated vCPU: the same exits at a similar pace, without a guest.
fn sim_loop(st: Instance<VmmVcpuStats>, opts: Options, stop: Arc<AtomicBool>, pause: Arc<Pause>) {
    while !stop.load(Relaxed) {
        park(&pause, &stop);
        for (c, reason) in [
            (&st.vmm_io_out, 2),
            (&st.vmm_io_in, 2),
            (&st.vmm_mmio_write, 6),
            (&st.vmm_hlt, 5),
        ] {
            c.inc();
            st.vmm_exits.inc();
            st.vmm_run_ns.add(7_000);
            st.vmm_last_exit.store(reason, Relaxed);
        }
        st.vmm_wakeups.inc();
        nap(
            &pause,
            &stop,
            opts.pace.unwrap_or(Duration::from_micros(50)),
        );
    }
}

/// Sleeps `time`, or less if the VMM stops meanwhile: shutdown never waits for a pace.
fn nap(pause: &Pause, stop: &AtomicBool, time: Duration) {
    let deadline = Clock::now().checked_add(time);
    let mut s = pause.state.lock().unwrap_or_else(|e| e.into_inner());
    while !stop.load(Relaxed) {
        let left = match deadline {
            Some(d) => d.saturating_duration_since(Clock::now()),
            None => time,
        };
        if left.is_zero() {
            return;
        }
        s = pause
            .cv
            .wait_timeout(s, left)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

fn park(pause: &Pause, stop: &AtomicBool) {
    let mut s = pause.state.lock().unwrap_or_else(|e| e.into_inner());
    if !s.0 {
        return;
    }
    s.1 += 1;
    pause.cv.notify_all();
    while s.0 && !stop.load(Relaxed) {
        s = pause.cv.wait(s).unwrap_or_else(|e| e.into_inner());
    }
    s.1 -= 1;
}

fn guest_memory() -> std::io::Result<usize> {
    // SAFETY: anonymous private mapping; checked for failure below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            MEM_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_ANONYMOUS | libc::MAP_PRIVATE | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the mapping is MEM_SIZE bytes; the code fits at 0x1000.
    unsafe {
        std::ptr::copy_nonoverlapping(GUEST.as_ptr(), (p as *mut u8).add(0x1000), GUEST.len())
    };
    Ok(p as usize)
}

fn real_vcpu(vm: &VmFd, id: u64) -> std::io::Result<VcpuFd> {
    let vcpu = vm.create_vcpu(id)?;
    let mut sregs = vcpu.get_sregs()?;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    vcpu.set_sregs(&sregs)?;
    let regs = kvm_bindings::kvm_regs {
        rip: 0x1000,
        rflags: 2,
        ..Default::default()
    };
    vcpu.set_regs(&regs)?;
    Ok(vcpu)
}

impl Vmm {
    /// Creates the VMs and starts their vCPU threads; the tree is registered under `kvm/`.
    pub fn start(opts: Options) -> std::io::Result<Vmm> {
        let registry = Registry::new();
        let top = Source::new("kvm").map_err(std::io::Error::other)?;
        let kvm = if opts.simulate {
            Err("simulation requested".to_owned())
        } else {
            Kvm::new().map_err(|e| format!("/dev/kvm: {e}"))
        };
        let simulated = kvm.as_ref().err().cloned();
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        if opts.vms.saturating_mul(opts.vcpus) > MAX_VCPU_THREADS {
            return Err(invalid(format!(
                "{} VMs x {} vCPUs is more than the {MAX_VCPU_THREADS} vCPU threads a VMM starts",
                opts.vms, opts.vcpus
            )));
        }
        if let Ok(k) = &kvm {
            let max = k.get_max_vcpus();
            if opts.vcpus > max {
                return Err(invalid(format!(
                    "{} vCPUs per VM: this host's KVM allows at most {max} (KVM_CAP_MAX_VCPUS)",
                    opts.vcpus
                )));
            }
        }
        let sets = Sets::default();
        let io = std::io::Error::other;
        // kvm_stat and scripts written for debugfs parse every file here as an integer.
        top.set_numeric(true);
        top.add_aggregate_of::<VmmVmStats>().map_err(io)?;
        top.add_aggregate_of::<VmmVcpuStats>().map_err(io)?;
        let mut vms = Vec::new();
        // Declared after `vms`, so on an early return it is dropped first: the vCPU threads
        // are stopped and joined before any VM's memory is unmapped.
        let mut run = Threads::default();
        let mut kernel_stats = false;
        // The kernel's VM and vCPU sets get one aggregate each in kvm/, added with the first
        // VM (and the first vCPU) that has them.
        let (mut vm_aggregate, mut vcpu_aggregate) = (false, false);
        // SAFETY: gettid has no preconditions. The kernel names VM directories after the
        // thread that creates the VM.
        let tid = unsafe { libc::gettid() };
        for vm_index in 0..opts.vms {
            let (fd, mem, name) = match &kvm {
                Ok(k) => {
                    let vm = k.create_vm()?;
                    let mem = guest_memory()?;
                    let region = kvm_bindings::kvm_userspace_memory_region {
                        slot: 0,
                        guest_phys_addr: 0,
                        memory_size: MEM_SIZE as u64,
                        userspace_addr: mem as u64,
                        flags: 0,
                    };
                    // SAFETY: `mem` is a live mapping of MEM_SIZE bytes, unmapped only when
                    // the VM is dropped.
                    unsafe { vm.set_user_memory_region(region)? };
                    let name = format!("{tid}-{}", vm.as_raw_fd());
                    (Some(vm), mem, name)
                }
                Err(_) => (None, 0, format!("{tid}-{}", vm_index + 100)),
            };
            let source = Source::new(&name).map_err(io)?;
            // The kernel's ids (`kvm-<tid>`, `kvm-<tid>/vcpu-<id>`) name the binary views;
            // replaced below by the id the kernel's own stats fd reports, when there is one.
            let vm_id = format!("kvm-{tid}");
            let stats = Instance::<VmmVmStats>::default();
            stats.vmm_vms.store(1, Relaxed);
            stats.vmm_vcpus.store(opts.vcpus as u32, Relaxed);
            stats.vmm_memory_bytes.set(MEM_SIZE as u64);
            source.add_instance(&stats).map_err(io)?;
            source.add_aggregate_of::<VmmVcpuStats>().map_err(io)?;
            let mut kernel_vcpu_set = None;
            if let Some(vm) = &fd {
                if let Ok((sfd, layout)) = open_stats(vm.as_raw_fd()) {
                    source.set_stats_id(&layout.id);
                    let (set, inst) = sets.instance("vm", sfd, &layout);
                    source
                        .add_values(set, Some(ErasedInstance::from_arc(Arc::new(inst))), false)
                        .map_err(io)?;
                    if !vm_aggregate {
                        top.add_aggregate(set).map_err(io)?;
                        vm_aggregate = true;
                    }
                    kernel_stats = true;
                }
            }
            let mut vcpus = Vec::new();
            let mut vcpu_fds = Vec::new();
            for n in 0..opts.vcpus {
                let vs = Source::new(&format!("vcpu{n}")).map_err(io)?;
                let st = Instance::<VmmVcpuStats>::default();
                vs.add_instance(&st).map_err(io)?;
                let (s, p) = (run.stop.clone(), run.pause.clone());
                let o = opts.clone();
                let t_st = st.clone();
                let handle = match &fd {
                    Some(vm) => {
                        let vcpu = real_vcpu(vm, n as u64)?;
                        vcpu_fds.push(vcpu.as_raw_fd());
                        if let Ok((sfd, layout)) = open_stats(vcpu.as_raw_fd()) {
                            vs.set_stats_id(&layout.id);
                            let (set, inst) = sets.instance("vcpu", sfd, &layout);
                            vs.add_values(
                                set,
                                Some(ErasedInstance::from_arc(Arc::new(inst))),
                                false,
                            )
                            .map_err(io)?;
                            kernel_vcpu_set = Some(set);
                        }
                        std::thread::Builder::new()
                            .name(format!("vcpu{n}"))
                            .spawn(move || vcpu_loop(vcpu, t_st, o, s, p))?
                    }
                    None => std::thread::Builder::new()
                        .name(format!("vcpu{n}"))
                        .spawn(move || sim_loop(t_st, o, s, p))?,
                };
                vs.set_stats_id(&format!("{vm_id}/vcpu-{n}"));
                stats.vmm_vcpu_threads.inc();
                run.handles.push(handle);
                source.add_child(&vs).map_err(io)?;
                vcpus.push((vs, st));
            }
            if let Some(set) = kernel_vcpu_set {
                source.add_aggregate(set).map_err(io)?;
                if !vcpu_aggregate {
                    top.add_aggregate(set).map_err(io)?;
                    vcpu_aggregate = true;
                }
            }
            source.set_stats_id(&vm_id);
            top.add_child(&source).map_err(io)?;
            vms.push(Vm {
                source,
                stats,
                vcpus,
                fd,
                vcpu_fds,
                mem,
            });
        }
        registry.register(&top).map_err(io)?;
        Ok(Vmm {
            registry,
            top,
            vms,
            simulated,
            kernel_stats,
            run,
        })
    }

    /// Parks every vCPU thread between two runs (no vCPU is in KVM_RUN afterwards).
    pub fn pause(&self) {
        let mut s = self
            .run
            .pause
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        s.0 = true;
        let want = self.run.handles.len();
        while s.1 < want {
            let (g, _) = self
                .run
                .pause
                .cv
                .wait_timeout(s, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner());
            s = g;
        }
    }

    /// Lets the vCPU threads run again.
    pub fn resume(&self) {
        let mut s = self
            .run
            .pause
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        s.0 = false;
        self.run.pause.cv.notify_all();
    }

    /// Stops the vCPU threads and waits for them: at once, even when they are halted for a
    /// long pace.
    pub fn stop(mut self) {
        self.run.shutdown();
    }
}

impl Drop for Vmm {
    fn drop(&mut self) {
        // Before the fields drop: the VMs' memory is unmapped only after no vCPU runs.
        self.run.shutdown();
    }
}
