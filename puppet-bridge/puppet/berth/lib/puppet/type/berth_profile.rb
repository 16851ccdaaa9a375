# frozen_string_literal: true

Puppet::Type.newtype(:berth_profile) do
  @doc = <<-DOC
    A Berth profile: the YAML that containers are composed from. Its name: line must be the title.

        berth_profile { 'web':
          ensure  => present,
          content => file('site/berth/web.yaml'),
        }

    A changed profile is applied to the running containers that use it (their limits at once).
  DOC

  ensurable do
    defaultvalues
    defaultto :present
  end

  newparam(:name, namevar: true) do
    desc "The profile's name."
  end

  newproperty(:content) do
    desc "The profile's YAML, as it should be stored (comments included)."
    validate do |value|
      raise ArgumentError, 'content is the YAML text of the profile' unless value.is_a?(String)
    end
    def insync?(is)
      is.to_s.strip == should.to_s.strip
    end

    def change_to_s(_currentvalue, _newvalue)
      'content changed'
    end
  end
end
