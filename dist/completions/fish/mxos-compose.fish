# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mxos_compose_global_optspecs
    string join \n v/verbose q/quiet json h/help V/version
end

function __fish_mxos_compose_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mxos_compose_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mxos_compose_using_subcommand
    set -l cmd (__fish_mxos_compose_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -s V -l version -d 'Print version'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "plan" -d 'Parse and validate a treefile; print its canonical plan as JSON'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "tree" -d 'Compose a treefile into a commit on its ref'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "keygen" -d 'Create an ed25519 key pair: BASE.secret and BASE.pub'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "sign" -d 'Sign a commit (ref or checksum) in a repository, with ed25519 and/or GPG'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "verify" -d 'Verify a commit\'s ed25519 signature against trusted public keys'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "fleet" -d 'Steer machines: channels, rollouts, pause, fleet rollback'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "disk" -d 'Write a bootable disk image (raw or qcow2) of a commit'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "installer" -d 'Write a USB stick image (raw or qcow2) that installs a commit on every machine it boots'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "container" -d 'Encapsulate a commit as a bootc container image (chunked by package, reproducible)'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "container-diff" -d 'Compare two images layer by layer: what an update from OLD to NEW downloads'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "container-import" -d 'Import the OSTree commit inside a container image into a repository'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "mirror" -d 'Copy what channels need from a published repo into a school mirror any web server serves'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "usb" -d 'Write what channels need onto a mounted USB drive, for machines without network'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "publish" -d 'Publish refs to a static archive repository with a signed summary'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "commit-dir" -d 'Commit a directory as it is (benchmarks and debugging; composes use `tree`)'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "prune" -d 'Delete old commits, their deltas and unreachable objects from a published repo; heads and commits pinned by fleet manifests stay. The summary is re-signed'
complete -c mxos-compose -n "__fish_mxos_compose_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -l basearch -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -l lockfile -d 'Use this lockfile instead of those beside the treefile (repeatable; later ones win)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -l no-lockfile -d 'Ignore lockfiles beside the treefile'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -l pretty -d 'Indent the JSON (same content, for reading)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand plan" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l repo -d 'Build repository (created if missing)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l mode -d 'Mode of a new repository: bare-user or archive' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l workdir -d 'Scratch directory (default: a fresh one inside --cachedir, removed afterwards). Keep it on the cache\'s filesystem: roots are assembled by hard links' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l cachedir -d 'What dnf trees keep between composes: the package cache and dnf\'s repo metadata (safe to delete at any time)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l overlays -d 'Directory holding overlays (default: ../overlays from the treefile\'s directory)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l sign-key -d 'Sign the new commit with this ed25519 secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l basearch -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l lockfile -d 'Use this lockfile instead of those beside the treefile (repeatable; later ones win)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l write-lockfile-to -d 'Write the resolved packages as an rpm-ostree lockfile (`--ex-write-lockfile-to`)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l touch-if-changed -d 'Touch FILE (create it, or update its time) when a new commit was written, as rpm-ostree does: scripts tell a no-op from a change without parsing output' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l collection-id -d 'Collection the commits are bound to (`ostree.collection-binding`); a new build repo takes it as its `core.collection-id`' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l force-nocache -d 'Compose even if the inputs did not change'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l no-lockfile -d 'Ignore lockfiles beside the treefile'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l lockfile-strict -d 'Only locked packages may be installed (rpm-ostree\'s `--ex-lockfile-strict`)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand tree" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand keygen" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand keygen" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand keygen" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand keygen" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -l repo -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -l key -d 'ed25519 secret key (ostree\'s format)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -l gpg-key-id -d 'Also (or only) sign with this GPG key, through libostree' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -l gpg-homedir -d 'GnuPG home directory holding the GPG secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand sign" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand verify" -l repo -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand verify" -l pubkey -d 'File with one base64 public key per line' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand verify" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand verify" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand verify" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand verify" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -f -a "show" -d 'Print a channel\'s current manifest'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -f -a "promote" -d 'Point a channel at a published commit, optionally as a gradual rollout'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -f -a "pause" -d 'Stop machines from starting new updates on a channel'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -f -a "resume" -d 'Let machines update again'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -f -a "rollback" -d 'Send every machine of the channel back to older content, as a new version'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and not __fish_seen_subcommand_from show promote pause resume rollback help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from show" -l public -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from show" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from show" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l to -d 'Ref or commit in the public repo' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l ref -d 'OS ref the channel\'s devices follow (needed for a new channel)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l rollout-percentage -d 'Start the rollout at this share of machines (0-100); without it, everyone at once' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l rollout-minutes -d 'Minutes for the rollout to reach every machine' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l reboot-window -d 'Reboot window, repeatable, e.g. "mon-fri 18:00+240" (replaces the channel\'s windows)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l time-zone -d 'IANA time zone of the reboot windows (default: the channel\'s, else America/Mexico_City)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l public -d 'The published repository holding the channel' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l sign-key -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l valid-days -d 'How long devices accept the new manifest' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l gpg-sign -d 'Also GPG-sign the manifest\'s commit and the summary (a repo published with `--gpg-sign`, whose devices require GPG)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l gpg-homedir -d 'GnuPG home directory holding the --gpg-sign secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from promote" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -l public -d 'The published repository holding the channel' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -l sign-key -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -l valid-days -d 'How long devices accept the new manifest' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -l gpg-sign -d 'Also GPG-sign the manifest\'s commit and the summary (a repo published with `--gpg-sign`, whose devices require GPG)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -l gpg-homedir -d 'GnuPG home directory holding the --gpg-sign secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from pause" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -l public -d 'The published repository holding the channel' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -l sign-key -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -l valid-days -d 'How long devices accept the new manifest' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -l gpg-sign -d 'Also GPG-sign the manifest\'s commit and the summary (a repo published with `--gpg-sign`, whose devices require GPG)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -l gpg-homedir -d 'GnuPG home directory holding the --gpg-sign secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l repo -d 'Build repository holding the old commit and the OS ref' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l to -d 'The commit to go back to (default: the channel\'s previous target)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l public -d 'The published repository holding the channel' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l sign-key -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l valid-days -d 'How long devices accept the new manifest' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l gpg-sign -d 'Also GPG-sign the manifest\'s commit and the summary (a repo published with `--gpg-sign`, whose devices require GPG)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l gpg-homedir -d 'GnuPG home directory holding the --gpg-sign secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from rollback" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print a channel\'s current manifest'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "promote" -d 'Point a channel at a published commit, optionally as a gradual rollout'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "pause" -d 'Stop machines from starting new updates on a channel'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Let machines update again'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "rollback" -d 'Send every machine of the channel back to older content, as a new version'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand fleet; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l repo -d 'Build repository holding it' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l ref -d 'Ref the machine follows (default: REV when it is a ref)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l to -d 'Image file to write' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l format -d 'raw or qcow2 (default: from the file name, else raw)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l size-mib -d 'Disk size in MiB' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l remote-conf -d 'The published remote config (mxos.conf) the machine updates from' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l remote-url -d 'Override the remote\'s URL (e.g. a school mirror, or http://10.0.2.2:PORT for a VM)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l karg -d 'Extra kernel arguments (repeatable), e.g. --karg console=ttyS0,115200' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l firmware -d 'Which firmware the disk boots on: uefi (the tree\'s signed shim and GRUB on an EFI system partition, for Secure Boot), bios (GRUB in a BIOS boot partition) or both' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l esp-mib -d 'Size of the EFI system partition in MiB' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l bios-boot-mib -d 'Size of the BIOS boot partition (GRUB\'s core image) in MiB' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand disk" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l ref -d 'The ref the stick installs (its head, or --commit) and the machines follow' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l commit -d 'Install this commit of the ref instead of its head' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l repo -d 'Build repository holding it' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l channel -d 'The fleet channel the machines follow (written to /etc/mxos/update.d)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l reboot -d 'When the machines may restart for an update: never, window or now' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l hostname-pattern -d 'Host name of each machine, e.g. \'lab3-{serial}\' ({serial}: firmware serial number, else the network card\'s address; {mac}: that address)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l target-disk -d 'auto (the largest non-removable disk) or a device path such as /dev/sda' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l language -d 'Language of the installer\'s screen: es (es-MX) or en' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l to -d 'Image file to write' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l format -d 'raw or qcow2 (default: from the file name, else raw)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l size-mib -d 'Disk size in MiB' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l remote-conf -d 'The published remote config (mxos.conf) the machine updates from' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l remote-url -d 'Override the remote\'s URL (e.g. a school mirror, or http://10.0.2.2:PORT for a VM)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l karg -d 'Extra kernel arguments (repeatable), e.g. --karg console=ttyS0,115200' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l firmware -d 'Which firmware the disk boots on: uefi (the tree\'s signed shim and GRUB on an EFI system partition, for Secure Boot), bios (GRUB in a BIOS boot partition) or both' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l esp-mib -d 'Size of the EFI system partition in MiB' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l bios-boot-mib -d 'Size of the BIOS boot partition (GRUB\'s core image) in MiB' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l wipe -d 'Erase a disk that holds data; without it such a disk is left alone and the screen says why'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand installer" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l repo -d 'Build repository holding the commit' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l to -d 'oci:DIR:TAG, oci-archive:FILE[:TAG] or docker://HOST/NAME:TAG' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l label -d 'Extra image label, KEY=VALUE (repeatable; wins over the defaults)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l source -d 'org.opencontainers.image.source' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l max-layers -d 'Most layers the image may have (ostree-ext needs at least 4)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l previous-build-manifest -d 'Manifest (JSON) of the previous build, so unchanged packages keep their layers' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l write-manifest -d 'Write this build\'s manifest here (the next build\'s --previous-build-manifest)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l tls-verify -d 'Registries: require HTTPS with a valid certificate (false: plain http on loopback)' -r -f -a "true\t''
false\t''"
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l authfile -d 'Registries: credentials file (containers-auth.json format)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l single-layer -d 'One layer for everything instead of chunks by package'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-diff" -l tls-verify -r -f -a "true\t''
false\t''"
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-diff" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-diff" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-diff" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-diff" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-import" -l repo -d 'Repository to import into (created bare-user if missing)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-import" -l ref -d 'Also point this ref at the imported commit' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-import" -l tls-verify -d 'Registries: require HTTPS with a valid certificate (false: plain http on loopback)' -r -f -a "true\t''
false\t''"
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-import" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-import" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-import" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand container-import" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -l from -d 'The published repo to copy (http://, https:// or file://)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -l to -d 'Mirror directory; the web server serves DIR/current' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -l channel -d 'Channel to carry (repeatable; default: every ref upstream publishes)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -l depth -d 'Commits of each ref\'s history static deltas may start from, the head included' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -l public-key -d 'Refuse an upstream summary not signed by this key (file with one base64 key per line)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand mirror" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -l from -d 'The published repo (or a school mirror) to copy from (http://, https:// or file://)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -l to -d 'Mount point of the drive; the copy goes into MOUNTPOINT/mxos' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -l channel -d 'Channel to carry (repeatable; default: every ref upstream publishes)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -l depth -d 'Commits of each ref\'s history static deltas may start from, the head included' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -l public-key -d 'Refuse an upstream summary not signed by this key (file with one base64 key per line)' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand usb" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l repo -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l to -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l sign-key -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l url -d 'URL devices use to reach the published repo (for the remote config)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l ref -d 'Refs to publish (default: all composed refs)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l remote-name -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l deltas -d 'Static deltas from each of the previous N published commits of a ref to its new head (0: none)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l summary-valid-days -d 'Days devices accept the summary (`ostree.summary.expires`); 0 makes it expired at once, which withdraws the repo from devices' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l gpg-sign -d 'Also sign the published heads and the summary with this GPG key (libostree\'s gpgme signatures, beside the ed25519 ones); the remote config then requires GPG' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l gpg-homedir -d 'GnuPG home directory holding the --gpg-sign secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l collection-id -d 'Collection ID of the published repo; every published commit must be bound to it' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l delta-from-scratch -d 'Also a from-scratch delta for first installs (slow on large trees)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand publish" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -l repo -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -l mode -d 'Mode of a new repository: bare-user or archive' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -l ref -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -l threads -d 'Writer threads (default: every core); 0 means libostree\'s own single-threaded walk' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -l selinux -d 'Label from the SELinux policy inside DIR (/usr/etc as /etc), as composes do'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand commit-dir" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -l public -d 'The published (archive) repository' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -l keep -d 'Keep this many commits of each ref, the head included' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -l keep-younger-than -d 'Keep commits younger than this many days' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -l sign-key -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -l gpg-sign -d 'Also GPG-sign the re-listed summary (a repo published with `--gpg-sign`)' -r
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -l gpg-homedir -d 'GnuPG home directory holding the --gpg-sign secret key' -r -F
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -l json -d 'Print the result as JSON (one object on stdout; schemas in docs/json/)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand prune" -s h -l help -d 'Print help'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "plan" -d 'Parse and validate a treefile; print its canonical plan as JSON'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "tree" -d 'Compose a treefile into a commit on its ref'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "keygen" -d 'Create an ed25519 key pair: BASE.secret and BASE.pub'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "sign" -d 'Sign a commit (ref or checksum) in a repository, with ed25519 and/or GPG'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "verify" -d 'Verify a commit\'s ed25519 signature against trusted public keys'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "fleet" -d 'Steer machines: channels, rollouts, pause, fleet rollback'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "disk" -d 'Write a bootable disk image (raw or qcow2) of a commit'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "installer" -d 'Write a USB stick image (raw or qcow2) that installs a commit on every machine it boots'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "container" -d 'Encapsulate a commit as a bootc container image (chunked by package, reproducible)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "container-diff" -d 'Compare two images layer by layer: what an update from OLD to NEW downloads'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "container-import" -d 'Import the OSTree commit inside a container image into a repository'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "mirror" -d 'Copy what channels need from a published repo into a school mirror any web server serves'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "usb" -d 'Write what channels need onto a mounted USB drive, for machines without network'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "publish" -d 'Publish refs to a static archive repository with a signed summary'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "commit-dir" -d 'Commit a directory as it is (benchmarks and debugging; composes use `tree`)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "prune" -d 'Delete old commits, their deltas and unreachable objects from a published repo; heads and commits pinned by fleet manifests stay. The summary is re-signed'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and not __fish_seen_subcommand_from plan tree keygen sign verify fleet disk installer container container-diff container-import mirror usb publish commit-dir prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "show" -d 'Print a channel\'s current manifest'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "promote" -d 'Point a channel at a published commit, optionally as a gradual rollout'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "pause" -d 'Stop machines from starting new updates on a channel'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "resume" -d 'Let machines update again'
complete -c mxos-compose -n "__fish_mxos_compose_using_subcommand help; and __fish_seen_subcommand_from fleet" -f -a "rollback" -d 'Send every machine of the channel back to older content, as a new version'
