# fish completion for distcc (distcc-rs): its own options, or a compiler
# command line completed as that compiler's. Options: distcc(1).
complete -c distcc -n '__fish_is_first_arg' -l help -d 'Print usage'
complete -c distcc -n '__fish_is_first_arg' -l version -d 'Print the version'
complete -c distcc -n '__fish_is_first_arg' -l show-hosts -d 'Print the host list'
complete -c distcc -n '__fish_is_first_arg' -o j -d 'Print the number of job slots'
complete -c distcc -n '__fish_is_first_arg' -l scan-includes -d 'Print the files pump mode would send'
complete -c distcc -n '__fish_is_first_arg' -x -a '(__fish_complete_command)'
complete -c distcc -n 'not __fish_is_first_arg' -x -a '(__fish_complete_subcommand)'
