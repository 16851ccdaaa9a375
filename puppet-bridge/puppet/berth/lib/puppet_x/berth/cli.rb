# frozen_string_literal: true

require 'json'
require 'open3'
require 'tempfile'

module PuppetX
  module Berth
    # Runs the berth CLI for the providers. The command is $BERTH_CLI (default: berth on the PATH); the
    # agent is whatever the CLI finds ($BERTH_SOCKET, $BERTH_REMOTE, else the local default socket).
    module Cli
      def self.command
        ENV.fetch('BERTH_CLI', 'berth')
      end

      # Runs berth with args; returns its standard output, or raises Puppet::Error with what it said.
      def self.run(*args)
        argv = [command, '--quiet'] + args.flatten.map(&:to_s)
        out, err, status = Open3.capture3(*argv)
        unless status.success?
          raise Puppet::Error, "#{argv[1..].join(' ')} failed (exit #{status.exitstatus}): #{(err.empty? ? out : err).strip}"
        end
        out
      rescue Errno::ENOENT
        raise Puppet::Error, "the berth CLI (#{command}) is not installed here: put it on the PATH or set BERTH_CLI"
      end

      # berth ARGS --format json, parsed.
      def self.json(*args)
        JSON.parse(run(*args, '--format', 'json'))
      end

      # Yields the path of a temporary file holding text (removed afterwards).
      def self.with_file(text, suffix)
        file = Tempfile.new(['berth', suffix])
        file.write(text)
        file.close
        yield file.path
      ensure
        file&.unlink
      end

      # What the three providers share: prefetching from self.instances, and existence from it.
      module Provider
        def self.included(base)
          base.extend(ClassMethods)
        end

        # Class side: prefetch matches the declared resources with what the agent has.
        module ClassMethods
          def prefetch(resources)
            instances.each do |provider|
              resources[provider.name].provider = provider if resources[provider.name]
            end
          end
        end

        def exists?
          ![nil, :absent].include?(@property_hash[:ensure])
        end
      end

      # A container's own settings as dotted keys with string values (as berth config show prints them).
      def self.flatten(hash, prefix = nil, into = {})
        (hash || {}).each do |key, value|
          dotted = prefix ? "#{prefix}.#{key}" : key.to_s
          if value.is_a?(Hash)
            flatten(value, dotted, into)
          else
            into[dotted] = value.is_a?(Array) ? value.to_json : value.to_s
          end
        end
        into
      end
    end
  end
end
