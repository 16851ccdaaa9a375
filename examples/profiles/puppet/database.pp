# Keeps the database container's configuration in place.
file { '/etc/motd':
  ensure  => file,
  content => "Managed by Berth: database (${facts['role']})\n",
}
