# fish completion for distccmon-text (distcc-rs). See distccmon-text(1).
complete -c distccmon-text -f -n '__fish_is_first_arg' -a '1 2 5 10' -d 'Delay in seconds'
complete -c distccmon-text -l help -d 'Print usage'
complete -c distccmon-text -l summary -d "Add up the client's records of each compile"
complete -c distccmon-text -l since -x -a '15m 1h 1d' -d 'With --summary: jobs that ended in the last WHEN'
