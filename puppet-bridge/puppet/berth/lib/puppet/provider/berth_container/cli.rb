# frozen_string_literal: true

require File.expand_path(File.join(File.dirname(__FILE__), '..', '..', '..', 'puppet_x', 'berth', 'cli.rb'))

Puppet::Type.type(:berth_container).provide(:cli) do
  desc 'Manages containers through the berth CLI (JSON output); BERTH_CLI and BERTH_SOCKET come from the environment.'

  include PuppetX::Berth::Cli::Provider
  mk_resource_methods

  def self.instances
    PuppetX::Berth::Cli.json('list').map do |c|
      new(name: c['name'],
          ensure: c['status'] == 'RUNNING' ? :running : :stopped,
          profiles: c['profiles'] || [],
          config: PuppetX::Berth::Cli.flatten(c['config']))
    end
  end

  def state
    @property_hash[:ensure] || :absent
  end

  def create
    args = ['launch', resource[:name]]
    Array(resource[:profiles]).each { |p| args += ['-p', p] }
    (resource[:config] || {}).each { |k, v| args += ['--set', "#{k}=#{v}"] }
    args += ['--image', resource[:image]] if resource[:image]
    PuppetX::Berth::Cli.run(*args)
    @property_hash[:ensure] = :running
  end

  def ensure_running
    if !exists?
      create
    elsif state == :stopped
      PuppetX::Berth::Cli.run('start', resource[:name])
    end
    @property_hash[:ensure] = :running
  end

  def ensure_stopped
    create unless exists?
    PuppetX::Berth::Cli.run('stop', resource[:name]) if state == :running
    @property_hash[:ensure] = :stopped
  end

  def destroy
    PuppetX::Berth::Cli.run('delete', resource[:name], '--force')
    @property_hash[:ensure] = :absent
  end

  def profiles=(value)
    raise Puppet::Error, "the profiles of #{resource[:name]} are #{@property_hash[:profiles].inspect}, not #{value.inspect}: " \
                         'a container keeps the profiles it was launched with; delete it (ensure => absent) and launch it anew'
  end

  def config=(value)
    PuppetX::Berth::Cli.run('config', 'set', resource[:name], '--replace', *value.map { |k, v| "#{k}=#{v}" })
    @property_hash[:config] = value
  end
end
