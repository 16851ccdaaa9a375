# frozen_string_literal: true

Puppet::Type.newtype(:berth_image) do
  @doc = <<-DOC
    A Berth image, known by its alias (the title): the busybox image, a Debian image built from a
    recipe with debootstrap (the same recipe is the same image: it is built once), or a root
    filesystem tarball imported.

        berth_image { 'busybox': }
        berth_image { 'debian/12': recipe => { 'suite' => 'bookworm', 'packages' => ['systemd-sysv', 'puppet'] } }
        berth_image { 'mine': source => '/srv/images/mine.tar.gz' }
  DOC

  ensurable do
    defaultvalues
    defaultto :present
  end

  newparam(:name, namevar: true) do
    desc "The image's alias."
  end

  newparam(:recipe) do
    desc 'A debootstrap recipe: suite, variant, packages, mirror.'
    validate do |value|
      raise ArgumentError, 'recipe is a hash (suite, variant, packages, mirror)' unless value.is_a?(Hash)
    end
  end

  newparam(:source) do
    desc 'A root filesystem archive on this host to import (.tar, .tar.gz, .tar.xz).'
    validate do |value|
      raise ArgumentError, "source must be an absolute path, not '#{value}'" unless value.start_with?('/')
    end
  end

  validate do
    if self[:recipe] && self[:source]
      raise ArgumentError, 'give a recipe or a source, not both'
    end
  end
end
