//! The container farm (issue #6): real volunteers and a real client in
//! Docker containers on two networks, built from Debian packages by
//! `containers/build-images`, proving the whole product end to end.
//!
//! Each scenario is its own test and builds its own farm; `harness::serial`
//! runs them one at a time. Run one alone with
//! `cargo test --test main farm::scenario_4`. Docker missing is a skip on a
//! developer machine and a failure under `CI=true`.
//!
//! Which programs are ours: the constants below list the programs of this
//! checkout that replace Debian's distcc 3.4 inside the containers
//! (bind-mounted over /usr/bin/NAME); scenario 8 deliberately keeps Debian's
//! programs on one side.

mod docker;
mod harness;
mod images;
mod project;
mod setup;

mod s10_tls;
mod s1_make;
mod s2_cross;
mod s3_allow;
mod s4_node_loss;
mod s5_portage;
mod s6_makepkg;
mod s7_set_hosts;
mod s8_mixed;
mod s9_ssh;

use harness::{Farm, Impl, Net, Spec};
use images::Image;

/// Our programs installed on volunteers.
const VOLUNTEER_OURS: &[&str] = &["distccd", "distcc-config"];
/// Our programs installed on the client.
const CLIENT_OURS: &[&str] = &["distcc", "distcc-config"];
/// Whose `distcc-config` writes host lists and masquerade links.
const CONFIG: Impl = Impl::Ours;

/// A native volunteer on `net` at `.octet`.
fn node(name: &'static str, net: Net, octet: u8) -> Spec {
    Spec {
        name,
        image: Image::Node,
        nets: vec![(net, octet)],
        ours: VOLUNTEER_OURS,
        // OpenRC's start-stop-daemon reads /proc/PID/exe of the daemon,
        // which runs as `distcc`: without CAP_SYS_PTRACE that is EACCES and
        // `stop` reports "No /usr/bin/distccd found running".
        caps: &["SYS_PTRACE"],
    }
}

/// The cross volunteer (aarch64 and armhf toolchains only).
fn cross(name: &'static str, net: Net, octet: u8) -> Spec {
    Spec {
        image: Image::Cross,
        ..node(name, net, octet)
    }
}

/// The client, on both networks (.2 on each).
fn client() -> Spec {
    Spec {
        name: "client",
        image: Image::Client,
        nets: vec![(Net::A, 2), (Net::B, 2)],
        ours: CLIENT_OURS,
        // Portage's network-sandbox unshares a network namespace and
        // brings its loopback up.
        caps: &["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE"],
    }
}

/// Prepare a volunteer's masquerade/whitelist directory with our
/// distcc-config when it is ours.
fn prepare(v: &harness::Container) {
    if CONFIG == Impl::Ours {
        setup::update_masquerade(v, None);
    }
}

/// The same, laid out as on `distro` (`gentoo`: `bin -> .` for Portage;
/// `arch`: a second directory `bin/` for makepkg); Debian's layout has no
/// `bin`, so with Debian's tools a `bin -> .` link stands in.
fn prepare_as(c: &harness::Container, distro: &str) {
    match CONFIG {
        Impl::Ours => setup::update_masquerade(c, Some(distro)),
        Impl::Debian => {
            c.sh_ok("[ -d /usr/lib/distcc/bin ] || ln -s . /usr/lib/distcc/bin");
        }
    }
}

/// The usual farm: the client on both networks and one native volunteer on
/// each (v1 on A at .11, v2 on B at .12), each with its whitelist prepared
/// and distccd started as users start it, allowing both subnets.
fn two_volunteers(farm: &mut Farm) -> (harness::Container, harness::Container, harness::Container) {
    let c = farm.start(&client());
    let v1 = farm.start(&node("v1", Net::A, 11));
    let v2 = farm.start(&node("v2", Net::B, 12));
    let allow = vec![farm.subnet(Net::A), farm.subnet(Net::B)];
    for v in [&v1, &v2] {
        prepare(v);
        setup::start_daemon(v, &setup::Service::main(&allow));
    }
    (c, v1, v2)
}

/// Start a farm for `scenario`, or return from the test (skip) when Docker
/// is missing outside CI.
macro_rules! farm {
    ($scenario:expr) => {
        match $crate::farm::Farm::new($scenario) {
            Some(f) => f,
            None => return,
        }
    };
}
use farm;

// The nine scenarios of issue #6 and the TLS farm of issue 14, named so that `farm::scenario_N` selects
// one; each module's `run` says what it proves.

/// Scenario 1: `make -j` across two volunteers, byte-identical objects.
#[test]
fn scenario_1_make_across_volunteers() {
    s1_make::run();
}

/// Scenario 2: cross-compiling to ARM (toolchain links, Arch-wiki variant).
#[test]
fn scenario_2_cross_compile_to_arm() {
    s2_cross::run();
}

/// Scenario 3: `--allow` refuses the other subnet; local fallback.
#[test]
fn scenario_3_allow_refuses_other_subnet() {
    s3_allow::run();
}

/// Scenario 4: a volunteer killed mid-build; the dead host is backed off.
#[test]
fn scenario_4_node_loss_mid_build() {
    s4_node_loss::run();
}

/// Scenario 5: Portage `FEATURES=distcc`, with and without network-sandbox.
#[test]
fn scenario_5_portage_features_distcc() {
    s5_portage::run();
}

/// Scenario 6: makepkg `BUILDENV=(distcc)`.
#[test]
fn scenario_6_makepkg_buildenv_distcc() {
    s6_makepkg::run();
}

/// Scenario 7: `distcc-config --set-hosts` writes the host list builds use.
#[test]
fn scenario_7_set_hosts_writes_the_host_list() {
    s7_set_hosts::run();
}

/// Scenario 8: mixed fleet with Debian's distcc 3.4 on either side.
#[test]
fn scenario_8_mixed_fleet_with_distcc_3_4() {
    s8_mixed::run();
}

/// Scenario 9: the ssh transport between containers.
#[test]
fn scenario_9_ssh_transport() {
    s9_ssh::run();
}

/// Scenario 10: an authenticated farm over TLS (issue 14).
#[test]
fn scenario_10_tls_farm() {
    s10_tls::run();
}
