//! The VMM: N VMs with M vCPUs each on /dev/kvm, every vCPU on its own thread running a tiny
//! real-mode guest (port I/O out and in, an MMIO write, HLT, repeat), its exits counted in
//! the VMM's own statistics and the kernel's imported beside them. Without /dev/kvm the vCPU
//! threads simulate the same exits, so the tree and its backends still run.
//!
//! [`Vmm::start`] tells its story in steps: open KVM (or decide to simulate), check the
//! request against the limits, then per VM create it (memory, fd, directory, the kernel's VM
//! statistics), create its vCPUs (fd, directory, the kernel's vCPU statistics), attach it to
//! `kvm/`, and only then start its vCPU threads; finally register `kvm/`.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant as Clock};

use kvm_bindings::{
    KVM_EXIT_FAIL_ENTRY, KVM_EXIT_HLT, KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_SHUTDOWN,
    KVM_EXIT_UNKNOWN,
};
use kvm_ioctls::{Kvm, VcpuExit, VcpuFd, VmFd};
use statsfs::{ErasedInstance, Instance, Registry, Source, ValueSet};

use crate::import::{open_stats, Drift, Sets};
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

/// The most vCPU threads one VMM starts: each is a real thread (and with KVM a vCPU fd and
/// its state); beyond this a typo such as `--vcpus 10000` is refused at once instead of
/// failing after minutes of thread creation.
pub const MAX_VCPU_THREADS: usize = 4096;

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
    /// Held only to be unmapped on drop. Declared after `fd`: fields drop in order, so the
    /// VM is closed before the memory backing its slot is unmapped.
    _memory: Option<GuestMemory>,
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
    /// How the imported kernel statistics differ from `schemas/kvm.toml`: one entry per
    /// descriptor table (the VMs' and the vCPUs'), empty when nothing was imported.
    pub kernel_drift: Vec<Drift>,
    run: Threads,
}

impl Vmm {
    /// Creates the VMs and starts their vCPU threads; the tree is registered under `kvm/`.
    ///
    /// Fails with `InvalidInput`, before any VM or thread exists, on more vCPUs than
    /// [`MAX_VCPU_THREADS`] in all or than this host's KVM allows per VM. On any failure every
    /// vCPU thread already started is stopped and joined before any VM's memory is unmapped.
    pub fn start(opts: Options) -> io::Result<Vmm> {
        let kvm = open_kvm(&opts);
        check_request(&opts, kvm.as_ref().ok())?;
        let mut start = Start::new(opts, kvm)?;
        for index in 0..start.opts.vms {
            start.add_vm(index)?;
        }
        Ok(start.register()?)
    }

    /// Parks every vCPU thread between two runs (no vCPU is in KVM_RUN afterwards).
    pub fn pause(&self) {
        let pause = &self.run.pause;
        let mut s = pause.lock();
        s.paused = true;
        let want = self.run.handles.len();
        while s.parked < want {
            s = pause
                .cv
                .wait_timeout(s, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Lets the vCPU threads run again.
    pub fn resume(&self) {
        let pause = &self.run.pause;
        pause.lock().paused = false;
        pause.cv.notify_all();
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

/// Why a step of [`Vmm::start`] failed: the host refused (KVM's ioctls, mmap, a thread, a
/// request beyond the limits) or the tree did. `From` for each lets every step say `?`;
/// [`Vmm::start`] still reports an `io::Error`, the tree's errors with `ErrorKind::Other`.
#[derive(Debug)]
enum StartError {
    Host(io::Error),
    Tree(statsfs::Error),
}

impl From<io::Error> for StartError {
    fn from(e: io::Error) -> StartError {
        StartError::Host(e)
    }
}

impl From<kvm_ioctls::Error> for StartError {
    fn from(e: kvm_ioctls::Error) -> StartError {
        StartError::Host(e.into())
    }
}

impl From<statsfs::Error> for StartError {
    fn from(e: statsfs::Error) -> StartError {
        StartError::Tree(e)
    }
}

impl From<StartError> for io::Error {
    fn from(e: StartError) -> io::Error {
        match e {
            StartError::Host(e) => e,
            StartError::Tree(e) => io::Error::other(e),
        }
    }
}

/// Opens /dev/kvm unless simulation was asked for; the error says why the VMs are simulated.
fn open_kvm(opts: &Options) -> Result<Kvm, String> {
    if opts.simulate {
        return Err("simulation requested".to_owned());
    }
    Kvm::new().map_err(|e| format!("/dev/kvm: {e}"))
}

/// Refuses a request beyond the limits before any VM or thread exists, so a typo fails at
/// once with a message naming the limit instead of half-way through thread creation.
fn check_request(opts: &Options, kvm: Option<&Kvm>) -> io::Result<()> {
    let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    if opts.vms.saturating_mul(opts.vcpus) > MAX_VCPU_THREADS {
        return Err(invalid(format!(
            "{} VMs x {} vCPUs is more than the {MAX_VCPU_THREADS} vCPU threads a VMM starts",
            opts.vms, opts.vcpus
        )));
    }
    if let Some(max) = kvm.map(Kvm::get_max_vcpus) {
        if opts.vcpus > max {
            return Err(invalid(format!(
                "{} vCPUs per VM: this host's KVM allows at most {max} (KVM_CAP_MAX_VCPUS)",
                opts.vcpus
            )));
        }
    }
    Ok(())
}

/// A [`Vmm`] being built. If a step fails, dropping it stops and joins the vCPU threads
/// (`run`) before any VM (`vms`) unmaps its memory: fields drop in declaration order.
struct Start {
    run: Threads,
    vms: Vec<Vm>,
    opts: Options,
    /// None when simulating.
    kvm: Option<Kvm>,
    simulated: Option<String>,
    /// The thread creating the VMs: the kernel names VM directories and stats ids after it.
    tid: libc::pid_t,
    /// `kvm/`.
    top: Source,
    kernel: KernelImport,
}

impl Start {
    /// Begins with `kvm/`: numeric, with the aggregates of the VMM's own sets.
    fn new(opts: Options, kvm: Result<Kvm, String>) -> Result<Start, StartError> {
        let top = Source::new("kvm")?;
        // kvm_stat and scripts written for debugfs parse every file here as an integer.
        top.set_numeric(true);
        top.add_aggregate_of::<VmmVmStats>()?;
        top.add_aggregate_of::<VmmVcpuStats>()?;
        Ok(Start {
            run: Threads::default(),
            vms: Vec::new(),
            opts,
            simulated: kvm.as_ref().err().cloned(),
            kvm: kvm.ok(),
            // SAFETY: gettid has no preconditions.
            tid: unsafe { libc::gettid() },
            top,
            kernel: KernelImport::default(),
        })
    }

    /// The kernel's id of this process's VMs, `kvm-<tid>`: what a VM's binary view carries
    /// when the kernel's own stats fd reports none.
    fn vm_id(&self) -> String {
        format!("kvm-{}", self.tid)
    }

    /// Adds one VM with its vCPUs, and starts their threads only once the VM belongs to
    /// `self.vms`.
    fn add_vm(&mut self, index: usize) -> Result<(), StartError> {
        let mut vm = self.create_vm(index)?;
        let mut guests = Vec::new();
        let mut kernel_vcpus = None;
        for n in 0..self.opts.vcpus {
            let (guest, kernel) = self.create_vcpu(&mut vm, n)?;
            guests.push(guest);
            kernel_vcpus = kernel.or(kernel_vcpus);
        }
        self.attach(&vm, kernel_vcpus)?;
        let threads: Vec<_> = guests
            .into_iter()
            .zip(vm.vcpus.iter().map(|(_, stats)| stats.clone()))
            .collect();
        let vm_stats = vm.stats.clone();
        // From here on `self.vms` owns the VM, so a failure below unmaps its memory only
        // after the threads started meanwhile are joined (see `Start`).
        self.vms.push(vm);
        for (n, (guest, stats)) in threads.into_iter().enumerate() {
            self.run.spawn(n, guest, stats, &self.opts)?;
            vm_stats.vmm_vcpu_threads.inc();
        }
        Ok(())
    }

    /// A VM (real: its fd and memory; simulated: neither) and its directory, with the VMM's
    /// statistics and, when the kernel has a stats fd, the kernel's.
    fn create_vm(&mut self, index: usize) -> Result<Vm, StartError> {
        let (fd, memory, name) = match &self.kvm {
            Some(kvm) => {
                let (fd, memory) = real_vm(kvm)?;
                let name = format!("{}-{}", self.tid, fd.as_raw_fd());
                (Some(fd), Some(memory), name)
            }
            None => (None, None, format!("{}-{}", self.tid, index + 100)),
        };
        let source = Source::new(&name)?;
        let stats = Instance::<VmmVmStats>::default();
        stats.vmm_vms.store(1, Relaxed);
        stats.vmm_vcpus.store(self.opts.vcpus as u32, Relaxed);
        stats.vmm_memory_bytes.set(MEM_SIZE as u64);
        source.add_instance(&stats)?;
        source.add_aggregate_of::<VmmVcpuStats>()?;
        if let Some(fd) = &fd {
            if let Some(set) = self.kernel.import("vm", fd.as_raw_fd(), &source)? {
                aggregate_once(&self.top, &mut self.kernel.vm_in_top, set)?;
            }
        }
        Ok(Vm {
            source,
            stats,
            vcpus: Vec::new(),
            fd,
            vcpu_fds: Vec::new(),
            _memory: memory,
        })
    }

    /// vCPU `n` of `vm`: its directory under the VM's with the VMM's statistics and, when
    /// real, its fd and the kernel's statistics. Returns the vCPU fd for its thread (None
    /// when simulated) and the kernel's vCPU set if it was imported.
    fn create_vcpu(
        &self,
        vm: &mut Vm,
        n: usize,
    ) -> Result<(Option<VcpuFd>, Option<&'static ValueSet>), StartError> {
        let dir = Source::new(&format!("vcpu{n}"))?;
        let stats = Instance::<VmmVcpuStats>::default();
        dir.add_instance(&stats)?;
        let (guest, kernel) = match &vm.fd {
            Some(fd) => {
                let vcpu = real_vcpu(fd, n as u64)?;
                vm.vcpu_fds.push(vcpu.as_raw_fd());
                let kernel = self.kernel.import("vcpu", vcpu.as_raw_fd(), &dir)?;
                (Some(vcpu), kernel)
            }
            None => (None, None),
        };
        // Set once: the kernel's id, when imported above, stays.
        dir.set_stats_id(&format!("{}/vcpu-{n}", self.vm_id()));
        vm.source.add_child(&dir)?;
        vm.vcpus.push((dir, stats));
        Ok((guest, kernel))
    }

    /// Hangs the VM under `kvm/`, with the aggregate of the kernel's vCPU statistics in its
    /// directory (and, for the first VM, in `kvm/`).
    fn attach(
        &mut self,
        vm: &Vm,
        kernel_vcpus: Option<&'static ValueSet>,
    ) -> Result<(), StartError> {
        if let Some(set) = kernel_vcpus {
            vm.source.add_aggregate(set)?;
            aggregate_once(&self.top, &mut self.kernel.vcpu_in_top, set)?;
        }
        // Set once: the kernel's id, when imported, stays.
        vm.source.set_stats_id(&self.vm_id());
        self.top.add_child(&vm.source)?;
        Ok(())
    }

    /// Registers `kvm/`, and the VMM runs.
    fn register(self) -> Result<Vmm, StartError> {
        let registry = Registry::new();
        registry.register(&self.top)?;
        Ok(Vmm {
            registry,
            top: self.top,
            vms: self.vms,
            simulated: self.simulated,
            // Whether any VM's statistics were imported, which is when kvm/ got their
            // aggregate.
            kernel_stats: self.kernel.vm_in_top,
            kernel_drift: self.kernel.sets.drift(),
            run: self.run,
        })
    }
}

/// The kernel's statistics as [`Vmm::start`] imports them. Every VM of a kernel shares one
/// value set and every vCPU another, so each set gets exactly one aggregate in `kvm/`, added
/// with the first VM (and the first VM's vCPUs) that has it.
#[derive(Default)]
struct KernelImport {
    sets: Sets,
    vm_in_top: bool,
    vcpu_in_top: bool,
}

impl KernelImport {
    /// Imports the statistics of the VM or vCPU fd `owner` into `dir`, whose binary view then
    /// carries the kernel's stats id. None, changing nothing, when the kernel has no stats fd
    /// for it (before Linux 5.14, or refused): the VMM runs without.
    fn import(
        &self,
        kind: &str,
        owner: RawFd,
        dir: &Source,
    ) -> Result<Option<&'static ValueSet>, StartError> {
        let Ok((stats_fd, layout)) = open_stats(owner) else {
            return Ok(None);
        };
        dir.set_stats_id(&layout.id);
        let (set, instance) = self.sets.instance(kind, stats_fd, &layout);
        dir.add_values(
            set,
            Some(ErasedInstance::from_arc(Arc::new(instance))),
            false,
        )?;
        Ok(Some(set))
    }
}

/// Adds the aggregate of `set` to `top` unless `added` says it is there.
fn aggregate_once(
    top: &Source,
    added: &mut bool,
    set: &'static ValueSet,
) -> Result<(), StartError> {
    if !*added {
        top.add_aggregate(set)?;
        *added = true;
    }
    Ok(())
}

/// A real VM: its fd, and the guest's memory with the guest code, as memory slot 0.
fn real_vm(kvm: &Kvm) -> Result<(VmFd, GuestMemory), StartError> {
    let vm = kvm.create_vm()?;
    let memory = GuestMemory::map()?;
    let region = kvm_bindings::kvm_userspace_memory_region {
        slot: 0,
        guest_phys_addr: 0,
        memory_size: MEM_SIZE as u64,
        userspace_addr: memory.addr as u64,
        flags: 0,
    };
    // SAFETY: `memory` is a live mapping of MEM_SIZE bytes, unmapped only after the VM is
    // closed (see `Vm::_memory`) and its vCPU threads are joined (see `Start`, `Vmm::drop`).
    unsafe { vm.set_user_memory_region(region)? };
    Ok((vm, memory))
}

/// A real vCPU, in real mode at the guest code.
fn real_vcpu(vm: &VmFd, id: u64) -> Result<VcpuFd, StartError> {
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

/// The guest's memory: MEM_SIZE bytes with the guest code at 0x1000, unmapped on drop.
struct GuestMemory {
    addr: usize,
}

impl GuestMemory {
    fn map() -> io::Result<GuestMemory> {
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
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the mapping is MEM_SIZE bytes; the code fits at 0x1000.
        unsafe {
            std::ptr::copy_nonoverlapping(GUEST.as_ptr(), (p as *mut u8).add(0x1000), GUEST.len())
        };
        Ok(GuestMemory { addr: p as usize })
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: mapped in `map` with this size; its VM is closed and no vCPU runs (the
        // drop orders of `Vm`, `Start` and `Vmm`), so nothing uses it after this.
        unsafe { libc::munmap(self.addr as *mut libc::c_void, MEM_SIZE) };
    }
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
    /// Starts vCPU `n`'s thread: the guest's run loop, or the simulation without a guest.
    fn spawn(
        &mut self,
        n: usize,
        guest: Option<VcpuFd>,
        stats: Instance<VmmVcpuStats>,
        opts: &Options,
    ) -> io::Result<()> {
        let (stop, pause, opts) = (self.stop.clone(), self.pause.clone(), opts.clone());
        let thread = std::thread::Builder::new().name(format!("vcpu{n}"));
        let handle = match guest {
            Some(vcpu) => thread.spawn(move || vcpu_loop(vcpu, stats, opts, stop, pause))?,
            None => thread.spawn(move || sim_loop(stats, opts, stop, pause))?,
        };
        self.handles.push(handle);
        Ok(())
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Relaxed);
        // Under the pause lock, so a thread between its stop check and its wait is woken.
        let mut s = self.pause.lock();
        s.paused = false;
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

/// Pause barrier: the vCPU threads park between runs while `paused` is set.
#[derive(Default)]
struct Pause {
    state: Mutex<PauseState>,
    /// Wakes parked and napping threads, and `Vmm::pause` when a thread parks.
    cv: Condvar,
}

/// What the pause barrier guards.
#[derive(Default)]
struct PauseState {
    /// The vCPU threads are to park before their next run.
    paused: bool,
    /// How many are parked now.
    parked: usize,
}

impl Pause {
    /// The state, even if a vCPU thread panicked holding it: two plain fields that are never
    /// left half-updated.
    fn lock(&self) -> MutexGuard<'_, PauseState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits here while paused (and not stopping), counted in `parked`.
    fn park(&self, stop: &AtomicBool) {
        let mut s = self.lock();
        if !s.paused {
            return;
        }
        s.parked += 1;
        self.cv.notify_all();
        while s.paused && !stop.load(Relaxed) {
            s = self.cv.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.parked -= 1;
    }

    /// Sleeps `time`, or less if the VMM stops meanwhile: shutdown never waits for a pace.
    fn nap(&self, stop: &AtomicBool, time: Duration) {
        let deadline = Clock::now().checked_add(time);
        let mut s = self.lock();
        while !stop.load(Relaxed) {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Clock::now()),
                None => time,
            };
            if left.is_zero() {
                return;
            }
            s = self
                .cv
                .wait_timeout(s, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// A real vCPU's thread: runs the guest, answers its port and MMIO reads, counts every exit
/// and keeps the last one's `KVM_EXIT_*` reason, until the guest shuts down or cannot run.
fn vcpu_loop(
    mut vcpu: VcpuFd,
    st: Instance<VmmVcpuStats>,
    opts: Options,
    stop: Arc<AtomicBool>,
    pause: Arc<Pause>,
) {
    while !stop.load(Relaxed) {
        pause.park(&stop);
        let count = opts.count;
        let t = count.then(Clock::now);
        let exit = vcpu.run();
        let ns = t.map_or(0, |t| t.elapsed().as_nanos() as u64);
        let reason = match exit {
            Ok(VcpuExit::IoOut(..)) => {
                if count {
                    st.vmm_io_out.inc()
                }
                KVM_EXIT_IO
            }
            Ok(VcpuExit::IoIn(_, data)) => {
                data.fill(0x2a);
                if count {
                    st.vmm_io_in.inc()
                }
                KVM_EXIT_IO
            }
            Ok(VcpuExit::MmioWrite(..)) => {
                if count {
                    st.vmm_mmio_write.inc()
                }
                KVM_EXIT_MMIO
            }
            Ok(VcpuExit::MmioRead(_, data)) => {
                data.fill(0);
                if count {
                    st.vmm_mmio_read.inc()
                }
                KVM_EXIT_MMIO
            }
            Ok(VcpuExit::Hlt) => {
                if count {
                    st.vmm_hlt.inc()
                }
                if let Some(p) = opts.pace {
                    pause.nap(&stop, p);
                }
                if count {
                    st.vmm_wakeups.inc()
                }
                KVM_EXIT_HLT
            }
            Ok(VcpuExit::Shutdown) => KVM_EXIT_SHUTDOWN,
            // An exit this guest never causes: counted, and shown as UNKNOWN.
            Ok(_) => KVM_EXIT_UNKNOWN,
            // A signal or a vCPU not ready: nothing happened in the guest, run again.
            Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => continue,
            Err(_) => KVM_EXIT_FAIL_ENTRY,
        };
        if count {
            st.vmm_exits.inc();
            st.vmm_run_ns.add(ns);
            st.vmm_last_exit.store(reason, Relaxed);
        }
        if matches!(reason, KVM_EXIT_SHUTDOWN | KVM_EXIT_FAIL_ENTRY) {
            break;
        }
    }
}

/// Simulated vCPU: the same exits at a similar pace, without a guest.
fn sim_loop(st: Instance<VmmVcpuStats>, opts: Options, stop: Arc<AtomicBool>, pause: Arc<Pause>) {
    while !stop.load(Relaxed) {
        pause.park(&stop);
        for (c, reason) in [
            (&st.vmm_io_out, KVM_EXIT_IO),
            (&st.vmm_io_in, KVM_EXIT_IO),
            (&st.vmm_mmio_write, KVM_EXIT_MMIO),
            (&st.vmm_hlt, KVM_EXIT_HLT),
        ] {
            c.inc();
            st.vmm_exits.inc();
            st.vmm_run_ns.add(7_000);
            st.vmm_last_exit.store(reason, Relaxed);
        }
        st.vmm_wakeups.inc();
        pause.nap(&stop, opts.pace.unwrap_or(Duration::from_micros(50)));
    }
}

#[cfg(test)]
mod tests {
    use crate::stats::show_vmm_vcpu_vmm_last_exit;

    /// `(KVM_EXIT_X, "X")` for each constant, the name taken from the constant's own.
    macro_rules! by_name {
        ($($reason:ident),* $(,)?) => {
            [$((kvm_bindings::$reason, stringify!($reason))),*]
        };
    }

    /// The names schemas/vmm.toml shows for `vmm_last_exit` are the kernel's: every reason
    /// the VMM stores (UNKNOWN, IO, MMIO, HLT, SHUTDOWN, FAIL_ENTRY) and every other one the
    /// schema names reads as its `KVM_EXIT_*` constant, so a renumbered or misspelt entry in
    /// the schema fails here.
    #[test]
    fn last_exit_names_are_the_kernels() {
        let named = by_name!(
            KVM_EXIT_UNKNOWN,
            KVM_EXIT_EXCEPTION,
            KVM_EXIT_IO,
            KVM_EXIT_HYPERCALL,
            KVM_EXIT_DEBUG,
            KVM_EXIT_HLT,
            KVM_EXIT_MMIO,
            KVM_EXIT_IRQ_WINDOW_OPEN,
            KVM_EXIT_SHUTDOWN,
            KVM_EXIT_FAIL_ENTRY,
            KVM_EXIT_INTR,
            KVM_EXIT_INTERNAL_ERROR,
            KVM_EXIT_SYSTEM_EVENT,
        );
        for (reason, constant) in named {
            let name = constant.strip_prefix("KVM_EXIT_").unwrap();
            assert_eq!(
                show_vmm_vcpu_vmm_last_exit(reason.into()),
                name,
                "{constant}"
            );
        }
    }
}
