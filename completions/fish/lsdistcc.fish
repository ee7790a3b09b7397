# fish completion for lsdistcc (distcc-rs). See lsdistcc(1).
complete -c lsdistcc -l help -d 'Print usage'
complete -c lsdistcc -x -a '(__fish_print_hostnames)'
