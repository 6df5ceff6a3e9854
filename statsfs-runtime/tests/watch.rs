//! Removal notices are scoped to a registry: a watcher hears removals in the tree its
//! registry serves, at any depth, and nothing else in the process (issue 13: before, every
//! watcher heard every removal anywhere, so every mount swept its inode table for changes in
//! trees it does not serve).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use statsfs_runtime::watch::Change;
use statsfs_runtime::{Registry, Source};

/// A registry with `kvm/vm/vcpu0`, and a watcher on it recording `parent/name` of each
/// removal.
struct Watched {
    registry: Registry,
    kvm: Source,
    vm: Source,
    vcpu: Source,
    heard: Arc<Mutex<Vec<String>>>,
    _watch: statsfs_runtime::watch::Watch,
}

fn watched() -> Watched {
    let registry = Registry::new();
    let kvm = Source::new("kvm").unwrap();
    let vm = Source::new("vm").unwrap();
    let vcpu = Source::new("vcpu0").unwrap();
    registry.register(&kvm).unwrap();
    kvm.add_child(&vm).unwrap();
    vm.add_child(&vcpu).unwrap();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let h = heard.clone();
    let watch = registry.watch(move |c| match c {
        Change::ChildRemoved {
            parent,
            child,
            name,
        } => {
            assert_eq!(child.name(), *name);
            h.lock()
                .unwrap()
                .push(format!("{}/{}", parent.name(), name));
        }
    });
    Watched {
        registry,
        kvm,
        vm,
        vcpu,
        heard,
        _watch: watch,
    }
}

fn heard(w: &Watched) -> Vec<String> {
    w.heard.lock().unwrap().clone()
}

#[test]
fn a_removal_notifies_only_the_watchers_of_its_registry() {
    let a = watched();
    let b = watched();
    // A second watcher on a clone of `a` (the same registry) hears `a`'s removals too.
    let also = Arc::new(AtomicUsize::new(0));
    let n = also.clone();
    let _also = a.registry.clone().watch(move |_| {
        n.fetch_add(1, SeqCst);
    });

    assert!(a.vm.remove_child(&a.vcpu));
    assert_eq!(heard(&a), ["vm/vcpu0"]);
    assert_eq!(heard(&b), Vec::<String>::new());
    assert_eq!(also.load(SeqCst), 1);

    assert!(b.kvm.remove_child(&b.vm));
    assert!(b.registry.unregister(&b.kvm));
    assert_eq!(heard(&a), ["vm/vcpu0"]);
    assert_eq!(heard(&b), ["kvm/vm", "/kvm"]);
    assert_eq!(also.load(SeqCst), 1);
}

#[test]
fn removals_outside_any_watched_tree_notify_nobody() {
    let a = watched();
    // Inside a subtree already detached from the registry: not in its tree any more.
    assert!(a.kvm.remove_child(&a.vm));
    assert!(a.vm.remove_child(&a.vcpu));
    // A tree never registered anywhere.
    let lone = Source::new("lone").unwrap();
    let leaf = Source::new("leaf").unwrap();
    lone.add_child(&leaf).unwrap();
    assert!(lone.remove_child(&leaf));
    // A failed removal changes nothing and says nothing.
    assert!(!a.kvm.remove_child(&a.vm));
    assert_eq!(heard(&a), ["kvm/vm"]);
}

#[test]
fn dropping_the_guard_stops_the_notices() {
    let a = watched();
    let registry = a.registry.clone();
    let heard_before = a.heard.clone();
    let (kvm, vm) = (a.kvm.clone(), a.vm.clone());
    drop(a);
    assert!(kvm.remove_child(&vm));
    assert_eq!(heard_before.lock().unwrap().len(), 0);
    assert!(registry.unregister(&kvm));
    assert_eq!(heard_before.lock().unwrap().len(), 0);
}
