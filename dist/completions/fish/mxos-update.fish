# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mxos_update_global_optspecs
    string join \n V/version json v/verbose q/quiet h/help sysroot=
end

function __fish_mxos_update_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mxos_update_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mxos_update_using_subcommand
    set -l cmd (__fish_mxos_update_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mxos-update -n "__fish_mxos_update_needs_command" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_needs_command" -s V -l version -d 'Print version'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "init" -d 'Set this machine up to follow a ref of a published remote'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "status" -d 'Show the deployments and where the update agent stands'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "upgrade" -d 'Download, verify and deploy the newest commit of the followed ref (ignores fleet manifests)'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "check" -d 'Ask the remote (the channel\'s signed manifest, or the ref) what this machine should run'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "download" -d 'Check, then download the offered commit without installing it'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "apply" -d 'Install the downloaded commit for the next boot'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "run" -d 'One update cycle, as the timer runs it'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "health-check" -d 'Check the version on trial after it booted; roll back if unhealthy'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "rollback" -d 'Make the previous deployment the default again'
complete -c mxos-update -n "__fish_mxos_update_needs_command" -f -a "install" -d 'Install MxOS on this machine\'s disk from the installer USB stick (run by mxos-install.service when the stick boots)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand init" -l remote-conf -d 'The remote config published with the repo (mxos.conf)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand init" -l ref -d 'Ref to follow, e.g. mxos/10/x86_64/demo' -r
complete -c mxos-update -n "__fish_mxos_update_using_subcommand init" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand init" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand init" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand init" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand init" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand status" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand status" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand status" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand status" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand status" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand upgrade" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand upgrade" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand upgrade" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand upgrade" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand upgrade" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand check" -l from -d 'Read updates only from this directory (the `mxos` directory of an update drive), not from the network' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand check" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand check" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand check" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand check" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand check" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand download" -l from -d 'Read updates only from this directory (the `mxos` directory of an update drive), not from the network' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand download" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand download" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand download" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand download" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand download" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand apply" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand apply" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand apply" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand apply" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand apply" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand run" -l reboot -d 'never | window | now (default: the configuration\'s `reboot`)' -r
complete -c mxos-update -n "__fish_mxos_update_using_subcommand run" -l from -d 'Read updates only from this directory (the `mxos` directory of an update drive), not from the network' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand run" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand run" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand run" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand run" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand run" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand health-check" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand health-check" -l reboot -d 'Reboot into the previous version when the checks fail'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand health-check" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand health-check" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand health-check" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand health-check" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand rollback" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand rollback" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand rollback" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand rollback" -s q -l quiet -d 'Only warnings and errors'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand install" -l from -d 'Directory holding what the stick installs' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand install" -l sysroot -d 'The sysroot to act on (the running system by default)' -r -F
complete -c mxos-update -n "__fish_mxos_update_using_subcommand install" -s h -l help -d 'Print help'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand install" -l json -d 'Print the result as JSON (one object on stdout)'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand install" -s v -l verbose -d 'More detail: -v shows every line subprocesses print, -vv everything'
complete -c mxos-update -n "__fish_mxos_update_using_subcommand install" -s q -l quiet -d 'Only warnings and errors'
