# A Berth host declared in Puppet: an image, a profile and three containers, made and kept so through
# the agent by the berth module (puppet-bridge/puppet/berth). Apply it on the agent's host:
#
#   puppet apply --modulepath puppet-bridge/puppet examples/puppet/site.pp
#
# A second apply changes nothing. Container names get the fact berth_prefix in front when it is set
# (FACTER_berth_prefix=test puppet apply ...), so that a test run cannot touch anyone else's.

$prefix = $facts['berth_prefix'] ? {
  undef   => '',
  ''      => '',
  default => "${facts['berth_prefix']}-",
}

berth_image { 'busybox': }

berth_profile { 'edge':
  content => @(YAML),
    # managed by Puppet (examples/puppet/site.pp): edits through berth are put back on the next run
    name: edge
    description: A small front container
    image: busybox
    limits: {memory: 96MiB, pids: 200}
    security: {privileged: true, nesting: false}
    | YAML
}

berth_container { "${prefix}edge1":
  ensure   => running,
  profiles => ['edge'],
  config   => { 'limits.memory' => '128MiB' },
}

berth_container { "${prefix}edge2":
  ensure   => running,
  profiles => ['edge'],
}

berth_container { "${prefix}spare":
  ensure   => stopped,
  profiles => ['edge'],
}
