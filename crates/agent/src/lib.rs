//! Device-side updates: follow a signed ref, verify each commit's ed25519 signature before
//! deploying it, keep the previous deployment for rollback, and report status in the
//! person's language (es-MX or English).

pub mod bindings;
pub mod causes;
pub mod config;
pub mod cycle;
pub mod events;
pub mod grubenv;
pub mod health;
pub mod i18n;
pub mod machine;
pub mod remote_conf;
pub mod sources;
pub mod state;
pub mod status;
pub mod summary_trust;
mod update;

pub use update::{
    end_trial, init, rollback, upgrade, Device, InitRequest, UpgradeOutcome, STATEROOT,
};
