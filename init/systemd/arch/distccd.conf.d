#
# /etc/conf.d/distccd: options for distccd.service (Arch Linux).
#
# SECURITY: anyone who can reach the port can run the whitelisted compilers
# (the links in /usr/lib/distcc) as the distcc user. List the clients you
# trust with --allow ADDRESS[/BITS] (repeat it for more networks) or use
# --allow-private for every private network. See distccd(1) for all options.
#
# Log to a file instead of the journal (the directory belongs to distcc):
#   --log-file /var/log/distccd/distccd.log --log-level notice
#
DISTCC_ARGS="--allow-private"
