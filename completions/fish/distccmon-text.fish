# fish completion for distccmon-text (distcc-rs). See distccmon-text(1).
complete -c distccmon-text -f -a '1 2 5 10' -d 'Delay in seconds'
complete -c distccmon-text -l help -d 'Print usage'
