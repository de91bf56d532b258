//! In-process rate limits for the public ingest endpoints, per IP and per site (GCRA via
//! `governor`). No Redis: one process serves everything.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::config::RateLimits;
use crate::domain::model::Id;

pub struct Limiter {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_client: Option<DefaultKeyedRateLimiter<Id>>,
    clock: DefaultClock,
}

/// Which limit refused a request, and when to retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    Ip(Duration),
    Client(Duration),
}

fn quota(per_minute: u32) -> Option<Quota> {
    let n = NonZeroU32::new(per_minute)?;
    // Bursts up to a tenth of the minute's allowance (at least 10): a tracker flushing its
    // queue after an offline period is not refused at once. Never more than the minute's
    // allowance itself: a limit of 5 a minute lets 5 through, not 10.
    let burst = NonZeroU32::new((per_minute / 10).max(10).min(per_minute)).unwrap_or(n);
    Some(Quota::per_minute(n).allow_burst(burst))
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Limiter {
        Limiter {
            per_ip: quota(limits.per_ip_per_minute).map(DefaultKeyedRateLimiter::keyed),
            per_client: quota(limits.per_client_per_minute).map(DefaultKeyedRateLimiter::keyed),
            clock: DefaultClock::default(),
        }
    }

    /// Checked before the body is read, so a flood costs no parsing.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        match &self.per_ip {
            Some(l) => l.check_key(&ip).map_err(|n| Refusal::Ip(n.wait_time_from(self.clock.now()))),
            None => Ok(()),
        }
    }

    pub fn check_client(&self, client: Id) -> Result<(), Refusal> {
        match &self.per_client {
            Some(l) => l.check_key(&client).map_err(|n| Refusal::Client(n.wait_time_from(self.clock.now()))),
            None => Ok(()),
        }
    }

    /// Forgets keys that are back at full allowance, so the maps do not grow forever.
    pub fn prune(&self) {
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_client {
            l.retain_recent();
        }
    }
}

/// Dashboard password guessing is slowed per IP: a burst of 5 attempts, then 10 a minute.
pub fn login_limiter() -> DefaultKeyedRateLimiter<IpAddr> {
    let per_minute = NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN);
    DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_burst() {
        let l = Limiter::new(RateLimits { per_ip_per_minute: 60, per_client_per_minute: 0 });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let c = Id::nil();
        for _ in 0..10 {
            assert!(l.check_ip(ip).is_ok());
        }
        assert!(matches!(l.check_ip(ip), Err(Refusal::Ip(d)) if d <= Duration::from_secs(1)));
        assert!(l.check_ip("10.0.0.2".parse().unwrap()).is_ok());
        assert!(l.check_client(c).is_ok());
    }

    #[test]
    fn a_low_limit_is_not_exceeded_by_its_burst() {
        let l = Limiter::new(RateLimits { per_ip_per_minute: 5, per_client_per_minute: 0 });
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..5 {
            assert!(l.check_ip(ip).is_ok());
        }
        assert!(l.check_ip(ip).is_err());
    }

    #[test]
    fn zero_means_unlimited() {
        let l = Limiter::new(RateLimits { per_ip_per_minute: 0, per_client_per_minute: 0 });
        for _ in 0..1000 {
            assert!(l.check_ip("10.0.0.1".parse().unwrap()).is_ok());
            assert!(l.check_client(Id::nil()).is_ok());
        }
    }
}
