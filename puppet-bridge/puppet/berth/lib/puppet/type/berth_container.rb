# frozen_string_literal: true

Puppet::Type.newtype(:berth_container) do
  @doc = <<-DOC
    A Berth system container, managed through the berth CLI and its agent.

        berth_container { 'web1':
          ensure   => running,              # running (default), stopped, present (either) or absent
          profiles => ['base', 'web'],      # composed in order; fixed once the container exists
          config   => { 'limits.memory' => '1GiB' },  # its own settings, dotted keys
        }

    Limits in config apply to a running container at once; other settings when it is launched anew.
  DOC

  newproperty(:ensure) do
    desc 'running (the default), stopped, present (made, running or not) or absent.'
    newvalue(:running) { provider.ensure_running }
    newvalue(:stopped) { provider.ensure_stopped }
    newvalue(:present) { provider.create unless provider.exists? }
    newvalue(:absent) { provider.destroy }
    defaultto :running

    def retrieve
      provider.state
    end

    def insync?(is)
      return [:running, :stopped].include?(is) if should == :present
      super
    end
  end

  newparam(:name, namevar: true) do
    desc "The container's name (also its hostname): lower-case letters, digits and '-'."
    validate do |value|
      raise ArgumentError, "'#{value}' is not a container name: lower-case letters, digits and '-'" unless value =~ %r{\A[a-z0-9][a-z0-9-]{0,62}\z}
    end
  end

  newproperty(:profiles, array_matching: :all) do
    desc 'The profiles the container is made of, in order. Set when it is launched; a change needs a new container.'
    def insync?(is)
      is == should
    end
  end

  newproperty(:config) do
    desc "The container's own settings (they win over its profiles), as dotted keys: { 'limits.memory' => '512MiB' }."
    validate do |value|
      raise ArgumentError, 'config is a hash of dotted keys to values' unless value.is_a?(Hash)
    end
    munge do |value|
      value.each_with_object({}) { |(k, v), h| h[k.to_s] = v.to_s }
    end
    def insync?(is)
      is.is_a?(Hash) && is == should
    end
  end

  newparam(:image) do
    desc "An image alias or fingerprint that replaces the profiles' image (at launch)."
  end

  autorequire(:berth_profile) { self[:profiles] }
  autorequire(:berth_image) { [self[:image]].compact }
end
