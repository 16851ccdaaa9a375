# frozen_string_literal: true

require File.expand_path(File.join(File.dirname(__FILE__), '..', '..', '..', 'puppet_x', 'berth', 'cli.rb'))

Puppet::Type.type(:berth_profile).provide(:cli) do
  desc 'Manages profiles through the berth CLI; BERTH_CLI and BERTH_SOCKET come from the environment.'

  include PuppetX::Berth::Cli::Provider
  mk_resource_methods

  def self.instances
    PuppetX::Berth::Cli.json('profile', 'list').map do |p|
      new(name: p['name'], ensure: :present, content: PuppetX::Berth::Cli.run('profile', 'show', p['name']))
    end
  end

  def create
    write(resource[:content] || "name: #{resource[:name]}\n")
    @property_hash[:ensure] = :present
  end

  def content=(value)
    write(value)
  end

  def destroy
    PuppetX::Berth::Cli.run('profile', 'delete', resource[:name])
    @property_hash[:ensure] = :absent
  end

  private

  def write(text)
    PuppetX::Berth::Cli.with_file(text, '.yaml') { |path| PuppetX::Berth::Cli.run('profile', 'apply', '-f', path) }
    @property_hash[:content] = text
  end
end
