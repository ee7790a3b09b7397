//! The farm's images, built (or found in the cache) once per test process by
//! `containers/build-images`, which tags each image with a hash of its
//! recipe. Docker missing is a skip on a developer machine and a failure
//! under `CI=true` (GUIDE.md: nothing is silently skipped in CI).

use super::docker;
use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;

/// Which recipe under `containers/` a container runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Image {
    /// Native volunteer: gcc/g++, sshd, OpenRC, Debian's distcc.
    Node,
    /// Volunteer with only the aarch64 and armhf cross toolchains.
    Cross,
    /// Client: node + cross toolchains, qemu-user, Portage, makepkg.
    Client,
}

impl Image {
    fn key(self) -> &'static str {
        match self {
            Image::Node => "node",
            Image::Cross => "cross",
            Image::Client => "client",
        }
    }
}

/// `Ok(refs)` when the farm can run, `Err(reason)` when Docker is missing.
/// An image build failure panics: that is a failure, never a skip.
fn built() -> &'static Result<HashMap<String, String>, String> {
    static IMAGES: OnceLock<Result<HashMap<String, String>, String>> = OnceLock::new();
    IMAGES.get_or_init(|| {
        docker::available()?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/containers/build-images");
        let started = std::time::Instant::now();
        let out = Command::new(script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "containers/build-images failed:\n{stderr}"
        );
        eprintln!("farm images ready in {:.0?}:\n{stderr}", started.elapsed());
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    })
}

/// The image reference for `image`, or `None` when the farm must be skipped
/// (no Docker outside CI). Under `CI=true` a missing Docker panics.
pub fn get(image: Image) -> Option<String> {
    match built() {
        Ok(refs) => Some(
            refs.get(image.key())
                .unwrap_or_else(|| panic!("build-images printed no {} image", image.key()))
                .clone(),
        ),
        Err(why) if crate::support::ci() => {
            panic!("the container farm needs Docker under CI=true: {why}")
        }
        Err(why) => {
            eprintln!("skipping the container farm: {why}");
            None
        }
    }
}
