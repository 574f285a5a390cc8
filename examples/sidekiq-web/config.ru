# A Sidekiq Web UI on the Redis that `verk work` uses (docs/dashboard.md).
#   REDIS_URL=redis://127.0.0.1:6379/0 rackup -o 0.0.0.0 -p 9292 config.ru
# Needs Ruby with the sidekiq gem (Debian: apt-get install ruby-sidekiq ruby-webrick).
# Sidekiq Web ships no authentication: keep it behind one (a VPN, a proxy with auth, or
# Rack::Auth::Basic below).
require 'securerandom'
require 'sidekiq/web'

Sidekiq.configure_client do |config|
  config.redis = { url: ENV.fetch('REDIS_URL', 'redis://127.0.0.1:6379/0') }
end

# Sidekiq Web keeps its CSRF token in the session: a cookie session is required.
use Rack::Session::Cookie, secret: ENV.fetch('SESSION_SECRET') { SecureRandom.hex(64) }, same_site: true, max_age: 86_400

if ENV['WEB_PASSWORD']
  use Rack::Auth::Basic, 'Sidekiq' do |user, password|
    Rack::Utils.secure_compare(user, ENV.fetch('WEB_USER', 'admin')) & Rack::Utils.secure_compare(password, ENV['WEB_PASSWORD'])
  end
end

run Sidekiq::Web
