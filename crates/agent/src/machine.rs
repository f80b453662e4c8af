//! The update agent as a pure state machine: events in, actions out, no I/O.
//!
//! The I/O layer persists [`State`] (as JSON), asks [`Machine::start_cycle`] what to do,
//! performs each [`Action`], and feeds what happened back through [`Machine::on`]. Keeping
//! every decision here means every path, including the odd ones, is tested without a VM.

use crate::config::RebootPolicy;
use crate::i18n::Lang;
use crate::t;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Idle,
    UpdateAvailable {
        commit: String,
        version: String,
    },
    Downloaded {
        commit: String,
        version: String,
    },
    Staged {
        commit: String,
        version: String,
    },
    WaitingForWindow {
        commit: String,
        version: String,
        /// Unix seconds of the next window's start, when the I/O layer knows it.
        next_window: Option<i64>,
    },
    Rebooting {
        commit: String,
        version: String,
    },
    /// The manifest or remote said no (dead end, paused, refused manifest): remembered so
    /// it is reported once, retried next cycle.
    Blocked {
        reason: String,
    },
}

impl State {
    /// The commit and version this state is carrying, if any.
    pub fn update(&self) -> Option<(&str, &str)> {
        match self {
            State::UpdateAvailable { commit, version }
            | State::Downloaded { commit, version }
            | State::Staged { commit, version }
            | State::WaitingForWindow {
                commit, version, ..
            }
            | State::Rebooting { commit, version } => Some((commit, version)),
            State::Idle | State::Blocked { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Up to date, or waiting for this device's turn in the rollout.
    CheckedNoUpdate,
    /// The manifest (or ref) offers this commit and the device may take it now.
    CheckedUpdate {
        commit: String,
        version: String,
    },
    /// Paused, dead end, refused manifest, ...
    CheckBlocked {
        reason: String,
    },
    DownloadFinished {
        commit: String,
    },
    DownloadFailed {
        reason: String,
    },
    StageFinished {
        commit: String,
    },
    StageFailed {
        reason: String,
    },
    /// Time passed; `in_window` says whether a reboot is allowed now under the window.
    Tick {
        in_window: bool,
        next_window: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Check,
    Download {
        commit: String,
    },
    Stage {
        commit: String,
    },
    Reboot,
    /// A line for the journal and the person, already in the machine's language.
    Report(String),
    Nothing,
}

pub struct Machine {
    pub state: State,
    pub policy: RebootPolicy,
    /// `[updates] enabled`: when false the agent only checks and reports.
    pub auto_download: bool,
    /// The language of [`Action::Report`] texts; English unless [`Machine::with_lang`].
    pub lang: Lang,
}

impl Machine {
    pub fn new(state: State, policy: RebootPolicy, auto_download: bool) -> Self {
        Machine {
            state,
            policy,
            auto_download,
            lang: Lang::En,
        }
    }

    pub fn with_lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// What to do at the start of a cycle. Staged and waiting states check too, so that a
    /// newer release can supersede the one waiting for a reboot; the reboot itself is
    /// driven by [`Event::Tick`].
    pub fn start_cycle(&self) -> Vec<Action> {
        match &self.state {
            State::Idle | State::Blocked { .. } => vec![Action::Check],
            State::UpdateAvailable { commit, .. } if self.auto_download => {
                vec![Action::Download {
                    commit: commit.clone(),
                }]
            }
            State::Downloaded { commit, .. } if self.auto_download => vec![Action::Stage {
                commit: commit.clone(),
            }],
            // Check-only: nothing new is fetched or installed, but a newer offer is noticed.
            State::UpdateAvailable { .. } | State::Downloaded { .. } => vec![Action::Check],
            State::Staged { .. } | State::WaitingForWindow { .. } => vec![Action::Check],
            State::Rebooting { .. } => vec![Action::Reboot],
        }
    }

    /// Pure transition: returns the actions the I/O layer must perform next, in order.
    /// Events that make no sense in the current state leave it alone: `[Nothing]`.
    pub fn on(&mut self, event: Event) -> Vec<Action> {
        let lang = self.lang;
        let state = std::mem::replace(&mut self.state, State::Idle);
        let (next, actions) = match (state, event) {
            // A reboot has been ordered; only the next boot changes anything.
            (state @ State::Rebooting { .. }, _) => (state, vec![Action::Nothing]),

            (State::Idle | State::Blocked { .. }, Event::CheckedNoUpdate) => {
                (State::Idle, vec![Action::Nothing])
            }
            // The offer was withdrawn before anything was installed: drop it.
            (State::UpdateAvailable { .. } | State::Downloaded { .. }, Event::CheckedNoUpdate) => {
                (State::Idle, vec![Action::Nothing])
            }

            (State::Blocked { reason: old }, Event::CheckBlocked { reason }) if old == reason => {
                (State::Blocked { reason }, vec![Action::Nothing])
            }
            (
                State::Idle
                | State::Blocked { .. }
                | State::UpdateAvailable { .. }
                | State::Downloaded { .. },
                Event::CheckBlocked { reason },
            ) => {
                let report = Action::Report(text(lang, Said::Blocked(&reason)));
                (State::Blocked { reason }, vec![report])
            }

            (state, Event::CheckedUpdate { commit, version }) => {
                self.offered(state, commit, version)
            }

            (State::UpdateAvailable { commit, version }, Event::DownloadFinished { commit: c })
                if c == commit =>
            {
                let stage = Action::Stage {
                    commit: commit.clone(),
                };
                (State::Downloaded { commit, version }, vec![stage])
            }
            (State::UpdateAvailable { version, .. }, Event::DownloadFailed { reason }) => {
                let report = text(lang, Said::DownloadFailed(&version, &reason));
                (State::Idle, vec![Action::Report(report)])
            }

            (State::Downloaded { commit, version }, Event::StageFinished { commit: c })
                if c == commit =>
            {
                self.apply_policy(commit, version, Origin::Stage, false, None)
            }
            (State::Downloaded { version, .. }, Event::StageFailed { reason }) => {
                let report = text(lang, Said::StageFailed(&version, &reason));
                (State::Idle, vec![Action::Report(report)])
            }

            (
                State::Staged { commit, version },
                Event::Tick {
                    in_window,
                    next_window,
                },
            ) => self.apply_policy(commit, version, Origin::Staged, in_window, next_window),
            (
                State::WaitingForWindow {
                    commit, version, ..
                },
                Event::Tick {
                    in_window,
                    next_window,
                },
            ) => self.apply_policy(commit, version, Origin::Waiting, in_window, next_window),

            (state, _) => (state, vec![Action::Nothing]),
        };
        self.state = next;
        actions
    }

    /// A check offered `commit`: take it unless it is the one already in hand.
    fn offered(&self, state: State, commit: String, version: String) -> (State, Vec<Action>) {
        let mut actions = Vec::new();
        match state.update() {
            Some((held, _)) if held == commit => return (state, vec![Action::Nothing]),
            Some((_, old)) => actions.push(Action::Report(text(
                self.lang,
                Said::Superseded(old, &version),
            ))),
            None => {}
        }
        actions.push(if self.auto_download {
            Action::Download {
                commit: commit.clone(),
            }
        } else {
            Action::Report(text(self.lang, Said::CheckOnly(&version)))
        });
        (State::UpdateAvailable { commit, version }, actions)
    }

    /// Where a staged update goes under the reboot policy. The policy is re-read on every
    /// tick so that an admin's change applies to an update that is already waiting.
    fn apply_policy(
        &self,
        commit: String,
        version: String,
        from: Origin,
        in_window: bool,
        next_window: Option<i64>,
    ) -> (State, Vec<Action>) {
        let reboot = |commit, version: String| {
            let report = Action::Report(text(self.lang, Said::Rebooting(&version)));
            (
                State::Rebooting { commit, version },
                vec![report, Action::Reboot],
            )
        };
        match self.policy {
            RebootPolicy::Now => reboot(commit, version),
            RebootPolicy::Window if in_window => reboot(commit, version),
            RebootPolicy::Window => {
                let actions = if from != Origin::Waiting {
                    vec![Action::Report(text(
                        self.lang,
                        Said::WaitingForWindow(&version),
                    ))]
                } else {
                    vec![Action::Nothing]
                };
                let state = State::WaitingForWindow {
                    commit,
                    version,
                    next_window,
                };
                (state, actions)
            }
            RebootPolicy::Never => {
                let actions = if from != Origin::Staged {
                    vec![Action::Report(text(self.lang, Said::Staged(&version)))]
                } else {
                    vec![Action::Nothing]
                };
                (State::Staged { commit, version }, actions)
            }
        }
    }

    /// One line for `mxos-update status`.
    pub fn describe(&self, lang: Lang) -> String {
        match &self.state {
            State::Idle => text(lang, Said::Idle),
            State::UpdateAvailable { version, .. } if self.auto_download => {
                text(lang, Said::Available(version))
            }
            State::UpdateAvailable { version, .. } => text(lang, Said::CheckOnly(version)),
            State::Downloaded { version, .. } => text(lang, Said::Downloaded(version)),
            State::Staged { version, .. } => text(lang, Said::Staged(version)),
            State::WaitingForWindow { version, .. } => text(lang, Said::WaitingForWindow(version)),
            State::Rebooting { version, .. } => text(lang, Said::Rebooting(version)),
            State::Blocked { reason } => text(lang, Said::Blocked(reason)),
        }
    }
}

/// Where [`Machine::apply_policy`] was reached from; it decides what is worth reporting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Stage,
    Staged,
    Waiting,
}

/// Every sentence the machine says; the texts are in the catalogue ([`crate::i18n`]).
enum Said<'a> {
    Idle,
    Available(&'a str),
    CheckOnly(&'a str),
    Superseded(&'a str, &'a str),
    Downloaded(&'a str),
    DownloadFailed(&'a str, &'a str),
    StageFailed(&'a str, &'a str),
    Staged(&'a str),
    WaitingForWindow(&'a str),
    Rebooting(&'a str),
    Blocked(&'a str),
}

fn text(lang: Lang, said: Said) -> String {
    use Said::*;
    let t = match said {
        Idle => t!("agent-idle"),
        Available(v) => t!("agent-available", version = v),
        CheckOnly(v) => t!("agent-check-only", version = v),
        Superseded(old, new) => t!("agent-superseded", old = old, new = new),
        Downloaded(v) => t!("agent-downloaded", version = v),
        DownloadFailed(v, r) => t!("agent-download-failed", version = v, reason = r),
        StageFailed(v, r) => t!("agent-stage-failed", version = v, reason = r),
        Staged(v) => t!("agent-staged", version = v),
        WaitingForWindow(v) => t!("agent-waiting-for-window", version = v),
        Rebooting(v) => t!("agent-rebooting", version = v),
        Blocked(r) => t!("agent-blocked", reason = r),
    };
    t.render(lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RebootPolicy::*;

    const C1: &str = "aaaa1111";
    const C2: &str = "bbbb2222";

    fn m(state: State, policy: RebootPolicy) -> Machine {
        Machine::new(state, policy, true)
    }
    fn update(commit: &str, version: &str) -> Event {
        Event::CheckedUpdate {
            commit: commit.into(),
            version: version.into(),
        }
    }
    fn tick(in_window: bool, next_window: Option<i64>) -> Event {
        Event::Tick {
            in_window,
            next_window,
        }
    }
    fn report(s: &str) -> Action {
        Action::Report(s.into())
    }
    fn download(c: &str) -> Action {
        Action::Download { commit: c.into() }
    }
    fn stage(c: &str) -> Action {
        Action::Stage { commit: c.into() }
    }
    fn available(c: &str, v: &str) -> State {
        State::UpdateAvailable {
            commit: c.into(),
            version: v.into(),
        }
    }
    fn downloaded(c: &str, v: &str) -> State {
        State::Downloaded {
            commit: c.into(),
            version: v.into(),
        }
    }
    fn staged(c: &str, v: &str) -> State {
        State::Staged {
            commit: c.into(),
            version: v.into(),
        }
    }
    fn waiting(c: &str, v: &str, next_window: Option<i64>) -> State {
        State::WaitingForWindow {
            commit: c.into(),
            version: v.into(),
            next_window,
        }
    }
    fn rebooting(c: &str, v: &str) -> State {
        State::Rebooting {
            commit: c.into(),
            version: v.into(),
        }
    }
    fn blocked(r: &str) -> State {
        State::Blocked { reason: r.into() }
    }

    /// Idle → check → download → stage, common to every policy.
    fn to_staged(machine: &mut Machine) -> Vec<Action> {
        assert_eq!(machine.start_cycle(), vec![Action::Check]);
        assert_eq!(machine.on(update(C1, "10.2")), vec![download(C1)]);
        assert_eq!(machine.state, available(C1, "10.2"));
        assert_eq!(machine.start_cycle(), vec![download(C1)]);
        let done = Event::DownloadFinished { commit: C1.into() };
        assert_eq!(machine.on(done), vec![stage(C1)]);
        assert_eq!(machine.state, downloaded(C1, "10.2"));
        assert_eq!(machine.start_cycle(), vec![stage(C1)]);
        machine.on(Event::StageFinished { commit: C1.into() })
    }

    #[test]
    fn happy_path_reboot_now() {
        let mut machine = m(State::Idle, Now);
        assert_eq!(
            to_staged(&mut machine),
            vec![report("Restarting to apply update 10.2."), Action::Reboot]
        );
        assert_eq!(machine.state, rebooting(C1, "10.2"));
        // Interrupted before the reboot happened: the next cycle reboots again.
        assert_eq!(machine.start_cycle(), vec![Action::Reboot]);
    }

    #[test]
    fn happy_path_reboot_never() {
        let mut machine = m(State::Idle, Never);
        assert_eq!(
            to_staged(&mut machine),
            vec![report(
                "Update 10.2 installed; it applies the next time the machine restarts."
            )]
        );
        assert_eq!(machine.state, staged(C1, "10.2"));
        // Ticks never reboot under Never, even in a window.
        assert_eq!(machine.on(tick(true, None)), vec![Action::Nothing]);
        assert_eq!(machine.state, staged(C1, "10.2"));
        assert_eq!(machine.start_cycle(), vec![Action::Check]);
        assert_eq!(machine.on(Event::CheckedNoUpdate), vec![Action::Nothing]);
        assert_eq!(machine.on(update(C1, "10.2")), vec![Action::Nothing]);
        assert_eq!(machine.state, staged(C1, "10.2"));
    }

    #[test]
    fn happy_path_reboot_window() {
        let mut machine = m(State::Idle, Window);
        assert_eq!(
            to_staged(&mut machine),
            vec![report(
                "Update 10.2 installed; it applies in the next reboot window."
            )]
        );
        assert_eq!(machine.state, waiting(C1, "10.2", None));
        assert_eq!(
            machine.on(tick(false, Some(1_700_000_000))),
            vec![Action::Nothing]
        );
        assert_eq!(machine.state, waiting(C1, "10.2", Some(1_700_000_000)));
        assert_eq!(
            machine.on(tick(false, Some(1_700_086_400))),
            vec![Action::Nothing]
        );
        assert_eq!(machine.state, waiting(C1, "10.2", Some(1_700_086_400)));
        assert_eq!(
            machine.on(tick(true, None)),
            vec![report("Restarting to apply update 10.2."), Action::Reboot]
        );
        assert_eq!(machine.state, rebooting(C1, "10.2"));
    }

    #[test]
    fn policy_changed_while_an_update_waits() {
        let mut machine = m(staged(C1, "10.2"), Window);
        assert_eq!(
            machine.on(tick(false, Some(5))),
            vec![report(
                "Update 10.2 installed; it applies in the next reboot window."
            )]
        );
        assert_eq!(machine.state, waiting(C1, "10.2", Some(5)));
        machine.policy = Never;
        assert_eq!(
            machine.on(tick(true, None)),
            vec![report(
                "Update 10.2 installed; it applies the next time the machine restarts."
            )]
        );
        assert_eq!(machine.state, staged(C1, "10.2"));
        machine.policy = Now;
        assert_eq!(
            machine.on(tick(false, None)),
            vec![report("Restarting to apply update 10.2."), Action::Reboot]
        );
        assert_eq!(machine.state, rebooting(C1, "10.2"));
    }

    #[test]
    fn a_newer_update_supersedes_the_one_in_hand() {
        let superseded = vec![report("Update 10.2 was superseded by 10.3."), download(C2)];
        for state in [
            available(C1, "10.2"),
            downloaded(C1, "10.2"),
            staged(C1, "10.2"),
            waiting(C1, "10.2", Some(9)),
        ] {
            let mut machine = m(state.clone(), Window);
            assert_eq!(machine.on(update(C2, "10.3")), superseded, "from {state:?}");
            assert_eq!(machine.state, available(C2, "10.3"));
            // The same offer again changes nothing.
            let mut machine = m(state.clone(), Window);
            assert_eq!(machine.on(update(C1, "10.2")), vec![Action::Nothing]);
            assert_eq!(machine.state, state);
        }
        // Once the reboot is ordered it is too late to change course.
        let mut machine = m(rebooting(C1, "10.2"), Window);
        assert_eq!(machine.on(update(C2, "10.3")), vec![Action::Nothing]);
        assert_eq!(machine.state, rebooting(C1, "10.2"));
    }

    #[test]
    fn check_only_never_fetches_or_installs() {
        let mut machine = Machine::new(State::Idle, Now, false);
        assert_eq!(
            machine.on(update(C1, "10.2")),
            vec![report(
                "Update 10.2 available; automatic downloads are off ([updates] enabled = false)."
            )]
        );
        assert_eq!(machine.state, available(C1, "10.2"));
        assert_eq!(machine.start_cycle(), vec![Action::Check]);
        assert_eq!(machine.on(update(C1, "10.2")), vec![Action::Nothing]);
        assert_eq!(
            machine.on(update(C2, "10.3")),
            vec![
                report("Update 10.2 was superseded by 10.3."),
                report("Update 10.3 available; automatic downloads are off ([updates] enabled = false).")
            ]
        );
        // Downloaded before downloads were turned off: not installed either.
        let machine = Machine::new(downloaded(C1, "10.2"), Now, false);
        assert_eq!(machine.start_cycle(), vec![Action::Check]);
    }

    #[test]
    fn failures_go_back_to_idle_with_a_report() {
        let mut machine = m(available(C1, "10.2"), Window);
        let failed = Event::DownloadFailed {
            reason: "connection reset".into(),
        };
        assert_eq!(
            machine.on(failed),
            vec![report("Could not download update 10.2: connection reset. It will be retried at the next check.")]
        );
        assert_eq!(machine.state, State::Idle);
        assert_eq!(machine.start_cycle(), vec![Action::Check]);

        let mut machine = m(downloaded(C1, "10.2"), Window).with_lang(Lang::Es);
        let failed = Event::StageFailed {
            reason: "disco lleno".into(),
        };
        assert_eq!(
            machine.on(failed),
            vec![report("No se pudo instalar la actualización 10.2: disco lleno. Se volverá a intentar en la próxima revisión.")]
        );
        assert_eq!(machine.state, State::Idle);
    }

    #[test]
    fn blocked_is_reported_once_and_retried() {
        let paused = "rollout paused";
        let mut machine = m(State::Idle, Window);
        let block = || Event::CheckBlocked {
            reason: paused.into(),
        };
        let said = vec![report(
            "Updates on hold: rollout paused. It will be checked again next cycle.",
        )];
        assert_eq!(machine.on(block()), said);
        assert_eq!(machine.state, blocked(paused));
        assert_eq!(machine.start_cycle(), vec![Action::Check]);
        assert_eq!(machine.on(block()), vec![Action::Nothing]);
        let other = Event::CheckBlocked {
            reason: "dead end".into(),
        };
        assert_eq!(
            machine.on(other),
            vec![report(
                "Updates on hold: dead end. It will be checked again next cycle."
            )]
        );
        assert_eq!(machine.on(Event::CheckedNoUpdate), vec![Action::Nothing]);
        assert_eq!(machine.state, State::Idle);
        let mut machine = m(blocked(paused), Window);
        assert_eq!(machine.on(update(C1, "10.2")), vec![download(C1)]);

        // An offer not yet installed is dropped; an installed one keeps waiting.
        for state in [available(C1, "10.2"), downloaded(C1, "10.2")] {
            let mut machine = m(state, Window);
            assert_eq!(machine.on(block()), said);
            assert_eq!(machine.state, blocked(paused));
        }
        for state in [staged(C1, "10.2"), waiting(C1, "10.2", None)] {
            let mut machine = m(state.clone(), Window);
            assert_eq!(machine.on(block()), vec![Action::Nothing]);
            assert_eq!(machine.state, state);
        }
    }

    #[test]
    fn a_withdrawn_offer_is_dropped_before_install() {
        for state in [available(C1, "10.2"), downloaded(C1, "10.2")] {
            let mut machine = m(state, Window);
            assert_eq!(machine.on(Event::CheckedNoUpdate), vec![Action::Nothing]);
            assert_eq!(machine.state, State::Idle);
        }
        let mut machine = m(waiting(C1, "10.2", None), Window);
        assert_eq!(machine.on(Event::CheckedNoUpdate), vec![Action::Nothing]);
        assert_eq!(machine.state, waiting(C1, "10.2", None));
    }

    #[test]
    fn senseless_events_are_ignored() {
        let states = [
            State::Idle,
            available(C1, "10.2"),
            downloaded(C1, "10.2"),
            staged(C1, "10.2"),
            waiting(C1, "10.2", Some(1)),
            rebooting(C1, "10.2"),
            blocked("paused"),
        ];
        let events = [
            Event::DownloadFinished { commit: C2.into() },
            Event::StageFinished { commit: C2.into() },
        ];
        for state in &states {
            for event in &events {
                let mut machine = m(state.clone(), Now);
                assert_eq!(machine.on(event.clone()), vec![Action::Nothing]);
                assert_eq!(&machine.state, state, "{event:?}");
            }
        }
        // Each event outside the one state that expects it.
        let cases = [
            (State::Idle, Event::DownloadFinished { commit: C1.into() }),
            (State::Idle, Event::DownloadFailed { reason: "x".into() }),
            (State::Idle, Event::StageFailed { reason: "x".into() }),
            (State::Idle, tick(true, None)),
            (blocked("p"), tick(true, None)),
            (
                available(C1, "10.2"),
                Event::StageFinished { commit: C1.into() },
            ),
            (
                available(C1, "10.2"),
                Event::StageFailed { reason: "x".into() },
            ),
            (available(C1, "10.2"), tick(true, None)),
            (
                downloaded(C1, "10.2"),
                Event::DownloadFinished { commit: C1.into() },
            ),
            (
                downloaded(C1, "10.2"),
                Event::DownloadFailed { reason: "x".into() },
            ),
            (downloaded(C1, "10.2"), tick(true, None)),
            (
                staged(C1, "10.2"),
                Event::StageFinished { commit: C1.into() },
            ),
            (
                staged(C1, "10.2"),
                Event::DownloadFailed { reason: "x".into() },
            ),
            (
                waiting(C1, "10.2", None),
                Event::StageFailed { reason: "x".into() },
            ),
            (rebooting(C1, "10.2"), tick(true, None)),
            (rebooting(C1, "10.2"), Event::CheckedNoUpdate),
            (
                rebooting(C1, "10.2"),
                Event::CheckBlocked { reason: "x".into() },
            ),
        ];
        for (state, event) in cases {
            let mut machine = m(state.clone(), Now);
            assert_eq!(
                machine.on(event.clone()),
                vec![Action::Nothing],
                "{state:?} {event:?}"
            );
            assert_eq!(machine.state, state, "{event:?}");
        }
    }

    #[test]
    fn describe_in_both_languages() {
        let cases = [
            (State::Idle, "No hay actualizaciones pendientes.", "No update pending."),
            (available(C1, "10.2"), "Actualización 10.2 disponible; se descargará.", "Update 10.2 available; it will be downloaded."),
            (downloaded(C1, "10.2"), "Actualización 10.2 descargada; se instalará a continuación.", "Update 10.2 downloaded; it will be installed next."),
            (staged(C1, "10.2"), "Actualización 10.2 instalada; se aplicará la próxima vez que se reinicie el equipo.", "Update 10.2 installed; it applies the next time the machine restarts."),
            (waiting(C1, "10.2", Some(1)), "Actualización 10.2 instalada; se aplicará en la próxima ventana de reinicio.", "Update 10.2 installed; it applies in the next reboot window."),
            (rebooting(C1, "10.2"), "Reiniciando para aplicar la actualización 10.2.", "Restarting to apply update 10.2."),
            (blocked("lanzamiento en pausa"), "Actualizaciones detenidas: lanzamiento en pausa. Se volverá a revisar en el próximo ciclo.", "Updates on hold: lanzamiento en pausa. It will be checked again next cycle."),
        ];
        for (state, es, en) in cases {
            let machine = m(state, Window);
            assert_eq!(machine.describe(Lang::Es), es);
            assert_eq!(machine.describe(Lang::En), en);
        }
        let machine = Machine::new(available(C1, "10.2"), Window, false);
        assert_eq!(
            machine.describe(Lang::Es),
            "Actualización 10.2 disponible; las descargas automáticas están desactivadas ([updates] enabled = false)."
        );
    }

    #[test]
    fn state_round_trips_through_json() {
        let states = [
            State::Idle,
            available(C1, "10.2"),
            downloaded(C1, "10.2"),
            staged(C1, "10.2"),
            waiting(C1, "10.2", Some(1_700_000_000)),
            waiting(C1, "10.2", None),
            rebooting(C1, "10.2"),
            blocked("dead end"),
        ];
        for state in states {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(
                serde_json::from_str::<State>(&json).unwrap(),
                state,
                "{json}"
            );
        }
        assert_eq!(
            serde_json::to_string(&State::Idle).unwrap(),
            r#"{"state":"idle"}"#
        );
        assert_eq!(
            serde_json::to_string(&waiting(C1, "10.2", Some(7))).unwrap(),
            r#"{"state":"waiting_for_window","commit":"aaaa1111","version":"10.2","next_window":7}"#
        );
    }
}
