# frozen_string_literal: true

require 'yaml'
require File.expand_path(File.join(File.dirname(__FILE__), '..', '..', '..', 'puppet_x', 'berth', 'cli.rb'))

Puppet::Type.type(:berth_image).provide(:cli) do
  desc 'Manages images through the berth CLI; BERTH_CLI and BERTH_SOCKET come from the environment.'

  include PuppetX::Berth::Cli::Provider
  mk_resource_methods

  def self.instances
    PuppetX::Berth::Cli.json('image', 'list').flat_map do |image|
      (image['aliases'] || []).map { |a| new(name: a, ensure: :present) }
    end
  end

  def create
    name = resource[:name]
    if resource[:source]
      PuppetX::Berth::Cli.run('image', 'import', resource[:source], '--alias', name)
    elsif resource[:recipe]
      PuppetX::Berth::Cli.with_file(resource[:recipe].to_yaml, '.yaml') do |path|
        PuppetX::Berth::Cli.run('image', 'build', path, '--alias', name)
      end
    elsif name == 'busybox'
      PuppetX::Berth::Cli.run('image', 'build', 'busybox')
    else
      raise Puppet::Error, "berth_image[#{name}] needs a recipe or a source (only busybox is made from nothing)"
    end
    @property_hash[:ensure] = :present
  end

  def destroy
    PuppetX::Berth::Cli.run('image', 'delete', resource[:name])
    @property_hash[:ensure] = :absent
  end
end
