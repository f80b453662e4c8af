//! The I/O around the pure [`Machine`]: read settings and state, ask the remote what this
//! machine should run (a signed fleet manifest when a channel is configured, else the ref's
//! head), download, stage, and reboot when the policy and the reboot window allow.

use std::path::Path;

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use mxos_fleet::{Acceptance, Decision, DeviceView, FleetManifest, Refusal, Release};
use mxos_repo::Deployment;

use crate::config::{self, Fragment, RebootPolicy, Settings};
use crate::i18n::short;
use crate::i18n::Lang;
use crate::machine::{Action, Event, Machine, State};
use crate::sources::{self, Source};
use crate::update::Device;
use crate::{events, health, refuse, state, t};

/// Fragments shipped in the image, then the admin's.
pub const USR_CONFIG: &str = "usr/lib/mxos/update.d";
pub const ETC_CONFIG: &str = "etc/mxos/update.d";

pub fn settings(root: &Path) -> Result<Settings> {
    let read = |dir: &str| -> Result<Vec<Fragment>> {
        let d = root.join(dir);
        let Ok(entries) = std::fs::read_dir(&d) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for e in entries {
            let p = e?.path();
            let text = std::fs::read_to_string(&p)
                .with_context(|| t!("reading-file", path = p.display()))?;
            out.push(Fragment::new(
                format!(
                    "/{dir}/{}",
                    p.file_name().unwrap_or_default().to_string_lossy()
                ),
                text,
            ));
        }
        Ok(out)
    };
    Ok(config::load(read(USR_CONFIG)?, read(ETC_CONFIG)?)?)
}

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    UpToDate,
    Update {
        commit: String,
        version: String,
    },
    /// A refusal or a manifest that says "not now"/"not this machine": the person-facing reason.
    Blocked(String),
    Waiting(String),
}

fn machine_id(root: &Path) -> Result<String> {
    let p = root.join("etc/machine-id");
    let id = std::fs::read_to_string(&p).with_context(|| t!("reading-file", path = p.display()))?;
    let id = id.trim().to_owned();
    if id.is_empty() {
        refuse!("machine-id-empty", path = p.display());
    }
    Ok(id)
}

/// The sources to try this cycle (see [`sources::plan`]), `from` being the directory a
/// person named with `--from`.
pub fn sources(settings: &Settings, from: Option<&Path>) -> Vec<Source> {
    let drives = match from {
        Some(_) => Vec::new(),
        None => sources::find_drives(&settings.sources.usb_paths),
    };
    sources::plan(&settings.sources, &drives, from)
}

/// Asks every source what this machine should run now, verifying everything it reads, and
/// believes the newest signed answer (the highest manifest serial, then the newest
/// summary; the earlier source on a tie). A source that fails or is refused is passed
/// over; its reason stays in the status. The device is left reading from the source that
/// gave the answer, which is where [`download`] starts.
pub fn check(
    device: &Device,
    settings: &Settings,
    sources: &[Source],
    lang: Lang,
    now: i64,
) -> Result<Found> {
    let dir = device.state_dir();
    let mut best: Option<((u64, u64), Found, Source)> = None;
    let mut failed: Vec<(Source, String)> = Vec::new();
    let mut last: Option<Result<Found>> = None;
    for source in sources {
        device.use_source(source);
        let result =
            check_one(device, settings, lang, now).or_else(|e| stale_drive(source, e, lang));
        let bytes = device.take_fetched();
        let why = match &result {
            Ok((Found::Blocked(why), None)) => Some(why.clone()),
            Ok(_) => None,
            Err(e) => Some(format!("{e:#}")),
        };
        let mut st = state::load(&dir)?;
        sources::record(&mut st.sources, &source.label(), bytes, why.clone(), now);
        state::save(&dir, &st)?;
        match result {
            Ok((found, Some(serial))) => {
                let fresh = (serial, device.summary_made().unwrap_or(0));
                if best.as_ref().is_none_or(|(b, _, _)| fresh > *b) {
                    best = Some((fresh, found, source.clone()));
                }
            }
            Ok((found, None)) => {
                failed.push((source.clone(), why.unwrap_or_default()));
                last = Some(Ok(found));
            }
            Err(e) => {
                failed.push((source.clone(), format!("{e:#}")));
                last = Some(Err(e));
            }
        }
    }
    if let Some((_, found, source)) = best {
        device.use_source(&source);
        return Ok(found);
    }
    // One source: its own answer, word for word.
    if sources.len() == 1 {
        if let Some(r) = last {
            return r;
        }
    }
    let list: Vec<String> = failed
        .iter()
        .map(|(s, why)| format!("{}: {why}", s.label()))
        .collect();
    Ok(Found::Blocked(
        t!("sources-none-usable", list = list.join("; ")).render(lang),
    ))
}

/// Downloads `commit` (already verified) from the source the check ended on, then from the
/// others in order if that one fails: the commit is pinned by its checksum, so any source
/// that has it will do. Returns the label of the source that gave it.
pub fn download(device: &Device, commit: &str, sources: &[Source], now: i64) -> Result<String> {
    let first = device.source();
    let mut order = vec![first.clone()];
    order.extend(sources.iter().filter(|s| **s != first).cloned());
    let dir = device.state_dir();
    let mut failures = Vec::new();
    for source in &order {
        device.use_source(source);
        let result = device.download(commit);
        let bytes = device.take_fetched();
        let label = source.label();
        let mut st = state::load(&dir)?;
        let why = result.as_ref().err().map(|e| format!("{e:#}"));
        sources::record(&mut st.sources, &label, bytes, why.clone(), now);
        if why.is_none() {
            st.last_source = Some(label.clone());
        }
        state::save(&dir, &st)?;
        match result {
            Ok(()) => return Ok(label),
            Err(e) if order.len() == 1 => return Err(e),
            Err(_) => failures.push(format!("{label}: {}", why.unwrap_or_default())),
        }
    }
    Err(t!("sources-download-failed", list = failures.join("; ")).into())
}

/// A drive whose signed summary has expired is an old drive: said so, with what to do,
/// rather than as a server that stopped publishing.
fn stale_drive(source: &Source, e: anyhow::Error, lang: Lang) -> Result<(Found, Option<u64>)> {
    let expired = e.chain().any(|c| {
        c.downcast_ref::<crate::i18n::Text>()
            .is_some_and(|t| t.id() == "summary-expired")
    });
    match source.drive() {
        Some(drive) if expired => {
            let said = t!("usb-drive-expired", drive = drive).render(lang);
            Ok((Found::Blocked(format!("{said} ({e:#})")), None))
        }
        _ => Err(e),
    }
}

/// What one source says this machine should run, and the serial of the signed answer
/// (0 without a channel); `None` when the source was refused.
fn check_one(
    device: &Device,
    settings: &Settings,
    lang: Lang,
    now: i64,
) -> Result<(Found, Option<u64>)> {
    let Some(channel) = settings.channel.as_deref() else {
        let before = device.repo.resolve(&device.refspec)?;
        let head = device.fetch_commit_object(&device.reference, None, now)?;
        if device.current.as_ref().is_some_and(|c| c.checksum == head) {
            return Ok((Found::UpToDate, Some(0)));
        }
        device.verify(&head, before.as_deref())?;
        let version = device
            .repo
            .commit_info(&head)?
            .version()
            .unwrap_or("-")
            .to_owned();
        return Ok((
            Found::Update {
                commit: head,
                version,
            },
            Some(0),
        ));
    };
    let fleet_ref = mxos_fleet::published::fleet_ref(channel);
    let manifest_commit = device.fetch_commit_object(&fleet_ref, None, now)?;
    let info = device.repo.commit_info(&manifest_commit)?;
    let json = info
        .string(mxos_fleet::published::KEY_MANIFEST)
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let sigs: Vec<Vec<u8>> = info
        .string(mxos_fleet::published::KEY_SIGNATURE)
        .and_then(|s| B64.decode(s).ok())
        .into_iter()
        .collect();
    let dir = device.state_dir();
    let mut st = state::load(&dir)?;
    let acc = Acceptance {
        trusted_keys: &device.keys,
        expected_channel: channel,
        highest_serial_seen: st.highest_serial,
        now,
    };
    let manifest: FleetManifest = match mxos_fleet::accept(&json, &sigs, &fleet_ref, &acc) {
        Ok(m) => m,
        Err(Refusal::Expired { expires, .. }) if device.source().drive().is_some() => {
            let drive = device.source().drive().unwrap_or_default().to_owned();
            let said = t!(
                "usb-manifest-expired",
                drive = drive,
                expires = mxos_fleet::utc(expires)
            );
            return Ok((Found::Blocked(said.render(lang)), None));
        }
        Err(refusal) => return Ok((Found::Blocked(refusal_text(&refusal, lang)), None)),
    };
    let serial = Some(manifest.serial);
    st.highest_serial = Some(st.highest_serial.unwrap_or(0).max(manifest.serial));
    state::save(&dir, &st)?;

    let current = match &device.current {
        Some(d) => {
            let i = device.repo.commit_info(&d.checksum)?;
            Release {
                commit: d.checksum.clone(),
                version: i.version().unwrap_or("-").to_owned(),
                timestamp: i.timestamp as i64,
            }
        }
        None => Release {
            commit: "0".repeat(64),
            version: "-".into(),
            timestamp: 0,
        },
    };
    let mid = machine_id(&device.root())?;
    let found = match mxos_fleet::decide(
        &manifest,
        &DeviceView {
            machine_id: &mid,
            current: &current,
        },
        now,
    ) {
        Decision::UpToDate => Found::UpToDate,
        Decision::Paused => Found::Blocked(t!("channel-paused", channel = channel).render(lang)),
        Decision::DeadEnd { reason } => {
            Found::Blocked(t!("channel-dead-end", reason = reason).render(lang))
        }
        Decision::WaitForRollout {
            percent_now,
            bucket_percent,
            ..
        } => Found::Waiting(
            t!(
                "rollout-waiting",
                percent_now = format!("{percent_now:.0}"),
                bucket_percent = format!("{bucket_percent:.0}")
            )
            .render(lang),
        ),
        Decision::Update { to, .. } => {
            let before = device.repo.resolve(&device.refspec)?;
            device.fetch_commit_object(&manifest.reference, Some(&to.commit), now)?;
            if let Err(e) = device.verify(&to.commit, before.as_deref()) {
                let why = format!("{}: {e:#}", refusal_text(&Refusal::UnsignedTarget, lang));
                return Ok((Found::Blocked(why), None));
            }
            Found::Update {
                commit: to.commit,
                version: to.version,
            }
        }
    };
    Ok((found, serial))
}

/// A refused manifest in the person's language; a [`mxos_fleet::FleetError`] detail stays as
/// the fleet crate words it, since it quotes the manifest for whoever fixes it.
pub fn refusal_text(r: &Refusal, lang: Lang) -> String {
    let t = match r {
        Refusal::Unsigned => t!("manifest-unsigned"),
        Refusal::UnknownKey => t!("manifest-unknown-key"),
        Refusal::Invalid(e) => t!("manifest-invalid", detail = e),
        Refusal::WrongChannel { expected, found } => t!(
            "manifest-wrong-channel",
            expected = format!("{expected:?}"),
            found = format!("{found:?}")
        ),
        Refusal::Replay {
            serial,
            highest_seen,
        } => t!(
            "manifest-replay",
            serial = serial,
            highest_seen = highest_seen
        ),
        Refusal::Expired { expires, now } => t!(
            "manifest-expired",
            expires = mxos_fleet::utc(*expires),
            now = mxos_fleet::utc(*now)
        ),
        Refusal::UnsignedTarget => t!("manifest-unsigned-target"),
    };
    t.render(lang)
}

/// Whether a reboot is allowed now by the channel's windows (no channel: any time).
fn reboot_window(device: &Device, settings: &Settings, now: i64) -> Result<(bool, Option<i64>)> {
    let Some(channel) = &settings.channel else {
        return Ok((true, Some(now)));
    };
    let reference = format!(
        "{}:{}",
        device.remote,
        mxos_fleet::published::fleet_ref(channel)
    );
    let Some(commit) = device.repo.resolve(&reference)? else {
        return Ok((true, Some(now)));
    };
    let info = device.repo.commit_info(&commit)?;
    let json = info
        .string(mxos_fleet::published::KEY_MANIFEST)
        .unwrap_or_default();
    let m = FleetManifest::parse(json.as_bytes(), &reference)?;
    Ok((
        mxos_fleet::in_reboot_window(&m.reboot_windows, &m.time_zone, now)?,
        mxos_fleet::next_reboot_window(&m.reboot_windows, &m.time_zone, now)?,
    ))
}

/// One cycle, as the timer runs it. Returns what a person should read, in order. A Reboot
/// action reboots only when `may_reboot` (the real, booted machine); otherwise it is reported.
pub fn run(
    sysroot: &Path,
    reboot: Option<RebootPolicy>,
    lang: Lang,
    now: i64,
    may_reboot: bool,
    from: Option<&Path>,
) -> Result<Vec<String>> {
    let device = Device::open(sysroot)?;
    let settings = settings(&device.root())?;
    let sources = sources(&settings, from);
    let policy = reboot.unwrap_or(settings.reboot);
    let dir = device.state_dir();
    let mut st = state::load(&dir)?;
    // After a reboot into the update, or if it was applied some other way, start afresh.
    if let Some((commit, _)) = st.machine.update() {
        if device
            .current
            .as_ref()
            .is_some_and(|c| c.checksum == commit)
            && !matches!(
                st.machine,
                State::Staged { .. } | State::WaitingForWindow { .. }
            )
        {
            st.machine = State::Idle;
        }
    }
    let mut machine = Machine::new(st.machine.clone(), policy, settings.enabled).with_lang(lang);
    let mut reports = Vec::new();
    let mut queue: std::collections::VecDeque<Action> = machine.start_cycle().into();
    // Bounded: a cycle is a handful of steps; a loop here would be a bug, not a retry.
    for _ in 0..32 {
        let Some(action) = queue.pop_front() else {
            break;
        };
        let channel = settings.channel.as_deref();
        let events = match action {
            Action::Check => vec![match check(&device, &settings, &sources, lang, now) {
                Ok(Found::UpToDate) => {
                    let current = device.current.as_ref().map(|d| d.checksum.as_str());
                    events::decision("up-to-date", current, channel, &t!("up-to-date"));
                    Event::CheckedNoUpdate
                }
                Ok(Found::Waiting(why)) => {
                    events::decision("waiting", None, channel, &t!("literal", text = &why));
                    reports.push(why);
                    Event::CheckedNoUpdate
                }
                Ok(Found::Update { commit, version }) => {
                    let said = t!("update-available", version = &version);
                    events::decision("update-available", Some(&commit), channel, &said);
                    Event::CheckedUpdate { commit, version }
                }
                Ok(Found::Blocked(reason)) => {
                    events::decision("blocked", None, channel, &t!("literal", text = &reason));
                    Event::CheckBlocked { reason }
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    events::decision(
                        "check-failed",
                        None,
                        channel,
                        &t!("literal", text = &reason),
                    );
                    Event::CheckBlocked { reason }
                }
            }],
            Action::Download { commit } => vec![match download(&device, &commit, &sources, now) {
                Ok(label) => {
                    let said = t!("downloaded", commit = short(&commit), source = &label);
                    events::decision("downloaded", Some(&commit), channel, &said);
                    Event::DownloadFinished { commit }
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    let said = t!("literal", text = &reason);
                    events::decision("download-failed", Some(&commit), channel, &said);
                    Event::DownloadFailed { reason }
                }
            }],
            Action::Stage { commit } => {
                let staged = device.deploy(&commit, settings.max_boot_attempts);
                let ev = match staged {
                    Ok(_) => {
                        let said = t!("staged", commit = short(&commit));
                        events::upgraded(&commit, channel, &said);
                        Event::StageFinished { commit }
                    }
                    Err(e) => {
                        let reason = format!("{e:#}");
                        let said = t!("literal", text = &reason);
                        events::decision("stage-failed", Some(&commit), channel, &said);
                        Event::StageFailed { reason }
                    }
                };
                let (in_window, next_window) = reboot_window(&device, &settings, now)?;
                vec![
                    ev,
                    Event::Tick {
                        in_window,
                        next_window,
                    },
                ]
            }
            Action::Reboot => {
                let commit = machine.state.update().map(|(c, _)| c.to_owned());
                let said = t!("rebooting");
                events::decision("reboot", commit.as_deref(), channel, &said);
                if may_reboot {
                    reboot_now(&dir, &machine.state)?;
                } else {
                    reports.push(t!("agent-reboot-offline").render(lang));
                }
                vec![]
            }
            Action::Report(text) => {
                reports.push(text);
                vec![]
            }
            Action::Nothing => vec![],
        };
        for ev in events {
            queue.extend(machine.on(ev));
        }
    }
    if matches!(
        machine.state,
        State::Staged { .. } | State::WaitingForWindow { .. }
    ) && queue.is_empty()
    {
        let (in_window, next_window) = reboot_window(&device, &settings, now)?;
        for a in machine.on(Event::Tick {
            in_window,
            next_window,
        }) {
            match a {
                Action::Report(t) => reports.push(t),
                Action::Reboot if may_reboot => reboot_now(&dir, &machine.state)?,
                _ => {}
            }
        }
    }
    save_machine(&dir, &machine.state)?;
    reports.push(machine.describe(lang));
    Ok(reports)
}

/// Stores the machine's state, re-reading the file first: steps of this cycle (a deploy)
/// may have changed other fields, such as the deployment on trial.
fn save_machine(dir: &Path, machine: &State) -> Result<()> {
    let mut st = state::load(dir)?;
    st.machine = machine.clone();
    state::save(dir, &st)
}

fn reboot_now(dir: &Path, machine: &State) -> Result<()> {
    save_machine(dir, machine)?;
    std::process::Command::new("systemctl")
        .arg("reboot")
        .status()
        .context(t!("asking-reboot"))?;
    Ok(())
}

/// What the health check concluded, for the person and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Nothing was on trial.
    NothingToCheck,
    Healthy {
        commit: String,
    },
    /// Checks failed: the previous version is the default again; a reboot returns to it.
    RolledBack {
        commit: String,
        failures: Vec<health::Failure>,
    },
    /// The new version never reached its checks; GRUB booted the previous one, which is now
    /// the default again.
    FellBack {
        commit: String,
    },
    /// The update staged before the last shutdown never became a deployment: libostree's
    /// finalization at shutdown failed. The trial is called off so that GRUB's boot counting
    /// does not count the running version's boots against it.
    NotFinalized {
        commit: String,
        running: String,
    },
}

/// Where the version on trial stands, from the deployments alone.
#[derive(Debug, PartialEq, Eq)]
enum TrialVerdict {
    /// The trial version runs: run its checks.
    Check,
    /// It is staged for the next boot (the check was run by hand before the reboot).
    NotYet,
    /// It is the default but the previous one runs: GRUB's boot counting gave up on it.
    FellBack,
    /// It is not the default: what was staged never became a deployment at shutdown (a
    /// copy of the same commit may still be there as the rollback).
    NotFinalized { running: String },
}

fn trial_verdict(pending: &str, deployments: &[Deployment]) -> TrialVerdict {
    let Some(booted) = deployments
        .iter()
        .find(|d| d.booted)
        .or(deployments.first())
    else {
        return TrialVerdict::NotYet;
    };
    if booted.checksum == pending {
        return TrialVerdict::Check;
    }
    match deployments.first() {
        Some(d) if d.checksum == pending && d.staged => TrialVerdict::NotYet,
        Some(d) if d.checksum == pending => TrialVerdict::FellBack,
        _ => TrialVerdict::NotFinalized {
            running: booted.checksum.clone(),
        },
    }
}

/// Runs on every boot before boot-complete.target (mxos-health.service).
pub fn health_check(sysroot: &Path, timeout_override: Option<u32>) -> Result<Health> {
    let device = Device::open(sysroot)?;
    let dir = device.state_dir();
    let st = state::load(&dir)?;
    let Some(pending) = st.pending_health.clone() else {
        return Ok(Health::NothingToCheck);
    };
    let deployments = device.sysroot.deployments();
    match trial_verdict(&pending, &deployments) {
        TrialVerdict::Check => {}
        TrialVerdict::NotYet => return Ok(Health::NothingToCheck),
        TrialVerdict::FellBack => {
            crate::update::rollback_in(&device.sysroot)?;
            crate::update::end_trial(sysroot)?;
            let said = t!("health-fell-back", commit = short(&pending));
            events::rolled_back(&pending, "boot-counting", &said);
            return Ok(Health::FellBack { commit: pending });
        }
        TrialVerdict::NotFinalized { running } => {
            crate::update::end_trial(sysroot)?;
            let said = t!(
                "health-not-finalized",
                commit = short(&pending),
                running = short(&running)
            );
            events::not_finalized(&pending, &said);
            return Ok(Health::NotFinalized {
                commit: pending,
                running,
            });
        }
    }
    let settings = settings(&device.root())?;
    let timeout = std::time::Duration::from_secs(
        timeout_override
            .unwrap_or(settings.health_timeout_seconds)
            .into(),
    );
    let failures = health::run(&health::checks(&device.root())?, timeout)?;
    if failures.is_empty() {
        crate::update::end_trial(sysroot)?;
        let said = t!("health-passed", commit = short(&pending));
        events::decision(
            "healthy",
            Some(&pending),
            settings.channel.as_deref(),
            &said,
        );
        return Ok(Health::Healthy { commit: pending });
    }
    let list: Vec<String> = failures
        .iter()
        .map(|f| format!("{}: {}", f.check, f.detail))
        .collect();
    let said = t!(
        "health-rolled-back",
        commit = short(&pending),
        failures = list.join("; ")
    );
    events::health_failed(&pending, &said);
    crate::update::rollback_in(&device.sysroot)?;
    crate::update::end_trial(sysroot)?;
    events::rolled_back(&pending, "health-check", &said);
    Ok(Health::RolledBack {
        commit: pending,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(index: usize, checksum: &str, booted: bool, staged: bool) -> Deployment {
        Deployment {
            index,
            stateroot: "mxos".into(),
            checksum: checksum.into(),
            serial: 0,
            refspec: None,
            booted,
            staged,
        }
    }

    #[test]
    fn where_the_trial_version_stands() {
        use TrialVerdict::*;
        // Booted the trial version: check it.
        assert_eq!(
            trial_verdict("v2", &[d(0, "v2", true, false), d(1, "v1", false, false)]),
            Check
        );
        // Still staged, before the reboot.
        assert_eq!(
            trial_verdict("v2", &[d(0, "v2", false, true), d(1, "v1", true, false)]),
            NotYet
        );
        // The default, but GRUB booted v1.
        assert_eq!(
            trial_verdict("v2", &[d(0, "v2", false, false), d(1, "v1", true, false)]),
            FellBack
        );
        // Lost at shutdown: v1 alone, or v1 with an older copy of v2 as the rollback.
        let lost = NotFinalized {
            running: "v1".into(),
        };
        assert_eq!(trial_verdict("v2", &[d(0, "v1", true, false)]), lost);
        assert_eq!(
            trial_verdict("v2", &[d(0, "v1", true, false), d(1, "v2", false, false)]),
            lost
        );
        assert_eq!(trial_verdict("v2", &[]), NotYet);
    }
}
