//! Fleet manifests for MxOS and every decision a device takes from one.
//!
//! A school IT admin (or the distribution) publishes one signed [`FleetManifest`] per channel,
//! e.g. `mxos/10/x86_64/escuelas/estable`. A device first [`accept`]s it (signature, channel,
//! replay, freshness), then asks [`decide`] whether to update and to which commit, and
//! [`next_reboot_window`] when it may reboot into it. The model follows Fedora CoreOS: the
//! Cincinnati graph's rollouts, barriers and dead-ends, and zincati's periodic reboot windows.
//!
//! Everything here is a pure function of its arguments: no files, network, clock or
//! environment, so the same inputs give the same decision on a device, in the admin tool and
//! in tests. Time is always a parameter, `now`, in unix seconds.

mod accept;
mod decide;
mod error;
mod manifest;
pub mod published;
mod window;

pub use accept::{accept, next_serial, sign, utc, Acceptance, Refusal};
pub use decide::{decide, rollout_bucket, rollout_progress, Decision, DeviceView};
pub use error::FleetError;
pub use manifest::{
    Barrier, DeadEnd, FleetManifest, RebootWindow, Release, Rollout, Weekday, DEFAULT_TIME_ZONE,
    SCHEMA,
};
pub use window::{in_reboot_window, next_reboot_window, parse_reboot_window};
