# fish completion for distccmon-tui (distcc-rs). See distccmon-tui(1).
complete -c distccmon-tui -f
complete -c distccmon-tui -l interval -x -a '0.5 1 2 5' -d 'Seconds between looks'
complete -c distccmon-tui -l window -x -a '5 10 30 60' -d 'Minutes counted for jobs done and fallbacks'
complete -c distccmon-tui -l stats-port -x -a '3633 0' -d "Every TCP host's --stats port (0: do not ask)"
complete -c distccmon-tui -l stats -x -d 'HOST:PORT=STATSPORT of one host'
complete -c distccmon-tui -l once -d 'Print one screen as text and exit'
complete -c distccmon-tui -s h -l help -d 'Print help'
complete -c distccmon-tui -s V -l version -d 'Print version'
