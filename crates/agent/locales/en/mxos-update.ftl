# mxos-update: everything the device tool says to a person, in English.
# Every id here exists in es-MX/mxos-update.ftl with the same variables (a test checks).

## Results of the commands

initialized = Ready: this machine will follow { $refspec }. Run `mxos-update upgrade` to install the first version.
up-to-date = The system is up to date.
up-to-date-version = The system is up to date ({ $version }).
update-available = An update is available: { $version }.
deployed = Update { $version } ({ $commit }) installed and verified; it will be used at the next boot. The previous version stays available for rollback.
rolled-back = Rolled back to version { $version }; it will be used at the next boot.
nothing-downloaded = nothing downloaded to apply; run `mxos-update download` first
health-nothing = No new version is on trial.
health-passed = Version { $commit } passed its health checks.
health-rolled-back = Version { $commit } failed its health checks ({ $failures }); returning to the previous version.
health-fell-back = Version { $commit } did not manage to boot; the machine went back to the previous version.
health-not-finalized = Update { $commit } was not installed at the last shutdown: ostree could not finish it (see `journalctl -b -1 -u ostree-finalize-staged`). Version { $running } keeps running; the next update check installs it again.
health-failed = the new version failed its health checks

## Errors and refusals

error-line = error: { $message }
caused-by-line = {"  "}caused by: { $message }
refused-headline = Update refused: it could not be verified as coming from MxOS. The machine keeps the version it had.
refused-signature = commit { $commit } is not signed by a key this machine trusts; not deploying it
refused-not-bootable = commit { $commit } is not marked bootable (ostree.bootable); not deploying it
refused-downgrade = commit { $commit } ({ $version }) is older than the deployed { $current } ({ $current_version }); refusing to downgrade (a fleet rollback publishes the old content as a new commit instead)
verify-unsigned = no ed25519 signature ({ $key }) found
verify-untrusted = none of its { $signatures } ed25519 signature(s) was made by a trusted key (wrong key, or the content was altered after signing)
verify-malformed = ed25519 signature #{ $index } has { $len } bytes; expected 64
not-initialized = { $sysroot } follows no ref; run `mxos-update init` first
refspec-no-remote = followed ref `{ $refspec }` has no remote (expected REMOTE:REF)
remote-no-key = remote `{ $remote }` has no verification-ed25519-key; refusing to deploy commits nobody can verify
remote-key-invalid = remote `{ $remote }`'s verification-ed25519-key
checking-remote = checking the remote for a new version
summary-unsigned = remote `{ $remote }` has no summary.sig: its list of versions is not signed, so this machine does not use it
summary-untrusted = the summary of remote `{ $remote }` is not signed by a key this machine trusts; not using it
summary-unreadable = the summary of remote `{ $remote }` cannot be read
summary-undated = the summary of remote `{ $remote }` has no { $key }, so its age cannot be checked; refusing it
summary-replayed = the summary of remote `{ $remote }` was made { $made }, before the one this machine last accepted ({ $accepted }); refusing an old (replayed) summary
summary-no-expiry = the summary of remote `{ $remote }` has no { $key }, so it could be replayed forever; refusing it (publish again with mxos-compose publish)
summary-expired = the summary of remote `{ $remote }` expired { $expires } (now { $now }); the server has not published a fresh one, so this machine does not use it
summary-no-ref = the signed summary of remote `{ $remote }` lists no ref `{ $reference }`
refused-unbound = refused commit { $commit } for `{ $reference }`: it is bound to no collection, and this machine accepts only commits of `{ $collection }`
refused-other-collection = refused commit { $commit }: it belongs to collection `{ $found }`, and this machine follows `{ $collection }`; whoever served it (a mirror, a USB stick, another machine) is not serving MxOS for this machine
refused-other-ref = refused commit { $commit }: it was published as `{ $found }`, not as `{ $reference }` which this machine asked for
summary-commit-mismatch = remote `{ $remote }` sent commit { $got } for `{ $reference }`, but its signed summary names { $expected }; not using it
remote-conf-gpg-key-missing = { $source }: remote `{ $remote }` requires GPG (gpg-verify=true) but names no key file (`mxos-gpg-key=`)
reading-gpg-key = reading the remote's GPG key { $path }
importing-gpg-key = importing the GPG key { $path } for remote `{ $remote }`
downloading-commit = downloading the verified commit
reading-followed-ref = reading the followed ref
reading-file = reading { $path }
writing-file = writing { $path }
installing-file = installing { $path }
creating-dir = creating { $path }
listing-dir = listing { $path }
state-unreadable = reading { $path } (delete it to start over)
machine-id-empty = { $path } is empty; systemd writes it on first boot
asking-reboot = asking systemd to reboot
grubenv-bad-variable = grubenv variable { $name } cannot be stored
grubenv-full = grubenv variables do not fit in { $size } bytes
bad-reboot-option = --reboot: { $detail }

## The published remote config (mxos.conf)

remote-conf-key-invalid = remote config's verification-ed25519-key
remote-conf-two-remotes = { $source }:{ $line }: only one remote per file is supported
remote-conf-bad-group = { $source }:{ $line }: expected a `[remote "NAME"]` group, found `{ $found }`
remote-conf-bad-line = { $source }:{ $line }: expected `key=value`, found `{ $found }`
remote-conf-key-outside = { $source }:{ $line }: `{ $key }` appears before any `[remote "NAME"]` group
remote-conf-no-group = { $source }: no `[remote "NAME"]` group
remote-conf-no-url = { $source }: remote `{ $remote }` has no `url=`
remote-conf-no-key = { $source }: remote `{ $remote }` has no `verification-ed25519-key=`; MxOS deploys only signed commits

## Configuration fragments (update.d)

config-invalid-toml = invalid TOML: { $detail }
config-key-outside-table = key `{ $key }` must be inside a table; put it under [{ $table }]
config-key-no-table = key `{ $key }` is outside any table; accepted tables: { $accepted }
config-did-you-mean = did you mean { $near }?
config-accepted = accepted: { $accepted }
config-unknown-table = unknown table [{ $table }]; { $hint }
config-not-a-table = [{ $table }] must be a table, found { $found }
config-unknown-key = unknown key `{ $key }` in [{ $table }]; { $hint }
config-wrong-type = [{ $table }] { $key }: expected { $expected }, found { $found }; accepted: { $accepted }
config-range = { $min } to { $max }
config-out-of-range = [{ $table }] { $key } = { $value } is out of range; accepted: { $accepted }
config-channel-accepted = a channel such as "mxos/10/x86_64/escuelas/estable", or "" for none
config-bad-value = [{ $table }] { $key }: { $detail }
config-reboot-unknown = unknown value `{ $value }`; accepted: { $accepted }
config-lan-accepted = a list of http:// or https:// URLs, such as ["http://servidor-escuela.local/mxos"]
config-usb-paths-accepted = absolute paths where drives are mounted, `*` for one directory level, such as ["/run/media/*/*", "/media/*"]
config-bad-item = `{ $value }` is not accepted (each at most once); accepted: { $accepted }
kind-string = a string
kind-integer = an integer
kind-float = a float
kind-boolean = a boolean
kind-datetime = a date-time
kind-array = an array
kind-table = a table

## Fleet manifests and channels

manifest-unsigned = the fleet manifest is not signed (no ed25519 signature)
manifest-unknown-key = the fleet manifest is not signed by a trusted key (wrong key, or the manifest was altered after signing)
manifest-invalid = the fleet manifest is invalid: { $detail }
manifest-wrong-channel = the fleet manifest is for channel { $found }, but this device follows { $expected }
manifest-replay = the fleet manifest has serial { $serial }, older than serial { $highest_seen } already seen (an old manifest was replayed)
manifest-expired = the fleet manifest expired at { $expires } (it is now { $now }); its publisher must sign it again with a later expiry
manifest-unsigned-target = the fleet manifest's target commit is not signed by a trusted key; refusing to update to it
channel-paused = Channel { $channel } is paused; no new updates are installed.
channel-dead-end = This version has no automatic update: { $reason }
rollout-waiting = The update is rolling out gradually ({ $percent_now } % of machines); this machine joins at { $bucket_percent } %.

## The update agent (mxos-update run, status)

agent-idle = No update pending.
agent-available = Update { $version } available; it will be downloaded.
agent-check-only = Update { $version } available; automatic downloads are off ([updates] enabled = false).
agent-superseded = Update { $old } was superseded by { $new }.
agent-downloaded = Update { $version } downloaded; it will be installed next.
agent-download-failed = Could not download update { $version }: { $reason }. It will be retried at the next check.
agent-stage-failed = Could not install update { $version }: { $reason }. It will be retried at the next check.
agent-staged = Update { $version } installed; it applies the next time the machine restarts.
agent-waiting-for-window = Update { $version } installed; it applies in the next reboot window.
agent-rebooting = Restarting to apply update { $version }.
agent-blocked = Updates on hold: { $reason }. It will be checked again next cycle.
agent-reboot-offline = A reboot applies the update (an offline sysroot is not rebooted).
status-no-deployments = No version is installed yet.
status-default = default
status-rollback = rollback
status-booted = booted
status-commit = commit:
status-sources = Update sources:
status-source-line = { $bytes } bytes, last used: { $used }
status-source-error = passed over: { $error }

## Health checks

health-cannot-run = cannot run: { $error }
health-exit-status = exit status: { $code }
health-killed = killed by signal { $signal }
health-timeout = did not finish within { $seconds } s

## Fixed words that are the same in every language (values a key accepts)

literal = { $text }

## Log lines of the update agent's decisions (journal)

downloaded = Downloaded commit { $commit } from { $source }.
sources-none-usable = no update source could be used: { $list }
sources-download-failed = no source could give the update: { $list }
usb-manifest-expired = the update drive at { $drive } carries a fleet manifest that expired on { $expires }; refresh the drive with `mxos-compose usb` from a current copy, or connect the machine to the network
usb-drive-expired = the update drive at { $drive } is too old: its signed summary has expired; refresh the drive with `mxos-compose usb` from a current copy, or connect the machine to the network
staged = Deployed commit { $commit } for the next boot.
rebooting = Restarting to apply the update.

## Command-line help (mxos-update --help and the man pages)

cli-about = Atomic, verified MxOS updates
cli-after-help = Exit status: 0 on success; 1 when the command failed (the error says why, with every cause); 2 for a command line that does not parse; 77 when `check` or `download` finds no update to take now.

    Language: messages, errors and this help follow LC_ALL, LC_MESSAGES or LANG (es_MX.UTF-8 for Spanish, English otherwise).

    Logs: under systemd, to the journal (journalctl -t mxos-update) with MXOS_COMMIT, MXOS_CHANNEL and MESSAGE_ID fields; on stderr otherwise. MXOS_LOG sets what is logged (e.g. MXOS_LOG=debug).

    --json prints the result as one JSON object on stdout whose `schema` field names its schema (docs/json/).
cli-heading-usage = Usage:
cli-heading-commands = Commands
cli-heading-options = Options
cli-heading-arguments = Arguments
cli-value-command = COMMAND
cli-arg-help = Print help
cli-arg-version = Print version
cli-arg-sysroot = The sysroot to act on (the running system by default)
cli-arg-json = Print the result as JSON (one object on stdout)
cli-arg-verbose = More detail: -v shows every line subprocesses print, -vv everything
cli-arg-quiet = Only warnings and errors
cli-init = Set this machine up to follow a ref of a published remote
cli-init-remote_conf = The remote config published with the repo (mxos.conf)
cli-init-reference = Ref to follow, e.g. mxos/10/x86_64/demo
cli-status = Show the deployments and where the update agent stands
cli-upgrade = Download, verify and deploy the newest commit of the followed ref (ignores fleet manifests)
cli-check = Ask the remote (the channel's signed manifest, or the ref) what this machine should run
cli-check-from = Read updates only from this directory (the `mxos` directory of an update drive), not from the network
cli-check-after-help = Exit status: 0 when an update is offered to this machine now, 77 when there is none (up to date, paused, waiting for the rollout, or refused), 1 when the check failed.
cli-download = Check, then download the offered commit without installing it
cli-download-from = Read updates only from this directory (the `mxos` directory of an update drive), not from the network
cli-apply = Install the downloaded commit for the next boot
cli-run = One update cycle, as the timer runs it
cli-run-reboot = never | window | now (default: the configuration's `reboot`)
cli-run-from = Read updates only from this directory (the `mxos` directory of an update drive), not from the network
cli-health-check = Check the version on trial after it booted; roll back if unhealthy
cli-health-check-reboot = Reboot into the previous version when the checks fail
cli-rollback = Make the previous deployment the default again
cli-install = Install MxOS on this machine's disk from the installer USB stick (run by mxos-install.service when the stick boots)
cli-install-from = Directory holding what the stick installs


## The USB stick installer (mxos-update install)

install-step = [{ $n }/{ $total }] { $what }
install-verify = Checking the signature of the version on the stick…
install-verified = Version { $version } ({ $commit }) is signed by a trusted key.
install-not-verified = version { $commit } on this stick is not signed by a trusted key; it will not be installed
install-not-gpg-signed = this stick's server requires GPG signatures (gpg-verify=true) and version { $commit } has none by its key; it will not be installed
install-choose = Choosing the disk…
install-chosen = Installing on { $disk }.
install-unfinished = { $disk } holds an MxOS install that never finished (was the machine switched off?); starting over.
install-wiping = { $disk } holds data ({ $found }); this stick was made with --wipe: it will be erased.
install-refused-data = disk { $disk } holds data ({ $found }); this stick does not erase disks that hold data. To install on it, make the stick with `mxos-compose installer --wipe`, or use an empty disk
install-partition = Creating the partitions (UEFI and BIOS)…
install-format = Creating the file system…
install-copy = Copying the system (this takes a few minutes)…
install-deploy = Installing the version, its remote and the school's settings…
install-label = Labelling the files for SELinux…
install-boot = Installing the boot loader…
install-done = Done: MxOS { $version } is installed on { $disk } as "{ $hostname }". The machine will power off: remove the stick and switch it on.
install-failed = MXOS WAS NOT INSTALLED.
install-nothing-written = nothing was written on any disk
install-write-failed = the install on { $disk } is incomplete and that disk will not boot; boot from the stick again to start over
install-bad-config = { $file }: { $message }
install-no-disk = there is no internal disk of at least { $min } to install on (disks seen: { $disks }); connect one, or choose one with --target-disk when making the stick
install-no-such-disk = the stick says to install on { $disk }, which this machine does not have (disks: { $disks })
install-disk-is-installer = { $disk } is the installer stick; nothing is installed on it
install-disk-read-only = disk { $disk } is read-only
install-disk-too-small = disk { $disk } is too small: MxOS needs at least { $min }
install-hostname-placeholder = the host name pattern `{ $pattern }` names `{ $found }`; accepted: { $accepted }
install-hostname-empty = the host name pattern `{ $pattern }` leaves no valid name (letters, digits and hyphens)
install-hostname-no-serial = the host name pattern `{ $pattern }` needs the machine's serial number or its network card's address, and this machine has neither

## The machine's sysroot

not-a-sysroot = { $path } is not an OSTree sysroot (no ostree/repo); set one up with `mxos-update init`
opening-sysroot = opening the sysroot { $path }
no-rollback-target = no previous deployment to roll back to (this machine has { $count })
rolling-back = making the previous deployment the default
deploying = deploying commit { $commit }

## Command lines that do not parse (exit status 2)

usage-unknown-command = unknown command '{ $command }'
usage-unknown-argument = unexpected argument '{ $argument }'
usage-missing-argument = a required argument is missing: { $argument }
usage-missing-command = a command is missing
usage-invalid-value = invalid value '{ $value }' for { $argument }
usage-other = { $detail }
usage-did-you-mean = did you mean '{ $suggestion }'?
usage-more-help = For more information, run `mxos-update --help`.

## Section names of the man pages

man-name = NAME
man-synopsis = SYNOPSIS
man-description = DESCRIPTION
man-options = OPTIONS
man-subcommands = COMMANDS
man-version = VERSION
man-extra = NOTES

## What failed below the agent: libostree's steps, and the network and disk causes it reports.
step-init-sysroot = initializing sysroot { $path }
step-load-sysroot = loading sysroot { $path }
step-create-stateroot = creating stateroot `{ $stateroot }`
sysroot-locked = another update is running on { $path } (the sysroot lock is held); try again when it finishes
step-fetch-summary = fetching the summary of remote `{ $remote }`
step-import-gpg-keys = importing GPG keys for remote `{ $remote }`
step-pull = pulling { $refs } from { $source }
step-stage = staging { $commit }
step-deploy = deploying { $commit }
step-write-boot-order = writing the new boot order
step-clean-up = cleaning up old deployments
# A progress bar's label, and the line it leaves when the download ends.
step-download = downloading the update
# What it means first; the library's own wording in parentheses, to search for.
cause-explained = { $explanation } ({ $original })
cause-host-not-found = the server's name could not be found: check that this machine is connected to the network
cause-connection-refused = nothing answers at the server's address: check that the update server is on and that the address is right
cause-timed-out = the server took too long to answer: the network is slow or down; the next attempt will try again
cause-not-on-server = the server does not have that file: the address may be wrong, or the mirror is being copied
cause-disk-full = the disk is full: free some space (old files in /var) and try again
cause-permission-denied = permission denied: run the command as root
cause-read-only = the file system is read-only: the disk may be damaged; ask for technical help
cause-wrong-binding = the server handed over a commit of another collection or branch (another distribution, or a mirror mixing repositories): this machine does not install it and keeps what it runs; tell your administrator
