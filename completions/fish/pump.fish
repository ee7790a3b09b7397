# fish completion for pump (distcc-rs). See pump(1).
complete -c pump -n '__fish_is_first_arg' -l startup -d 'Start the include server'
complete -c pump -n '__fish_is_first_arg' -l shutdown -d 'Stop the include server'
complete -c pump -n '__fish_is_first_arg' -l help -d 'Print usage'
complete -c pump -n '__fish_is_first_arg' -x -a '(__fish_complete_command)'
complete -c pump -n 'not __fish_is_first_arg' -x -a '(__fish_complete_subcommand)'
