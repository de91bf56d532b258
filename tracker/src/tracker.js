/*
 * CRM Web Tracker — core browser SDK.
 *
 * Built by build.mjs into dist/tracker.min.js. The server serves that file with the
 * identifier __CRM_CONFIG__ (it must appear exactly once in this file) replaced by the
 * site's JSON config: {clientId, endpoint, forms, partial, consent, honeypot, chat, chatSrc, debug}.
 *
 * What it does:
 * - one capture-phase listener per event type on window, so every <form> is seen, including
 *   forms added after load and forms whose own handler calls preventDefault and sends with fetch;
 *   it never calls preventDefault and never submits anything itself;
 * - form_submission on `submit` (the browser fires it only for valid forms, also for requestSubmit());
 * - form_interaction ("partial capture") when a field holding an email loses focus, and for
 *   unsent, changed forms holding an email when the page is hidden;
 * - a queue persisted in localStorage, sent in batches by fetch(keepalive) or, when the page is
 *   hidden, by sendBeacon; an event leaves the queue only after a 2xx (or a permanent 4xx) and keeps
 *   its id across retries, so the server can drop duplicates.
 *
 * Privacy decisions:
 * - Partial capture (events the visitor did not explicitly send) is off when C.partial is false,
 *   under Global Privacy Control or Do-Not-Track, and, with C.consent == "required", until
 *   crmTracker.consent(true).
 * - Explicit submissions are captured in all those cases: pressing "Send" on the site's own form is
 *   the visitor deliberately giving that data to the site owner, who runs this tracker to receive it.
 *   optOut() is the switch that stops everything, submissions included.
 * - Never sent: password/file/search inputs, hidden inputs (except utm_* and the configured
 *   honeypot), cc-* / password / one-time-code autocomplete, fields whose name, id, label,
 *   placeholder or autocomplete contain a sensitive word, anything inside [data-crm-ignore] or
 *   [role=search], and values that are Luhn-valid 13–19 digit card numbers.
 *
 * Public API, on window.crmTracker only:
 *   consent(granted)  allow (true) or revoke (false) partial capture when consent is required; remembered
 *   optOut()          stop everything, drop the queue, remembered in localStorage
 *   flush()           send queued events now
 * Internal hooks for chat.js (not for site owners):
 *   _track(type, extra)  queue an event of `type` with the extra keys merged in (retries, persistence)
 *   _chat                C.chat ({title, greeting, color})
 *
 * Every entry point (listener, timer, promise callback, API call) goes through T(): nothing ever
 * throws into the host page, and nothing runs after optOut().
 */
!function (C) {
  try {
    var W = window, D = document, N = navigator, Lo = location,
      QK = "crm_q",
      URL_ = C.endpoint + "/v1/track/batch",
      DBG = C.debug || /crm_debug=1/.test(Lo.search),
      EM = /^\S+@\S+\.\S+$/m,
      // form element -> {c: configured form, i: formId (configured, or derived ref), q: selector, s: startedAt, d: changed since last sent,
      //                  r: Map(field element -> its last [key, value]) (values of removed multi-step fields)}
      FS = new Map,
      mem = [], // the queue when localStorage is unavailable
      hold = 0, // no fetch before this time (backoff, Retry-After)
      tries = 0, // consecutive failures (backoff)
      O, // opted out
      CG, // consent given
      F, // ids of the batch in flight, or 0
      tmr, hid, S, NEWS,

      now = Date.now,
      iso = () => new Date().toISOString(),
      T0 = iso(),
      log = (...a) => DBG && console.log("[crm]", ...a),
      T = f => (a, b) => { try { return O || f(a, b) } catch (e) { log(e) } },
      ga = (el, x) => el.getAttribute(x),
      // el or an ancestor matches a configured selector (an invalid one matches nothing)
      is = (el, x) => { try { return el.closest(x) } catch (e) {} },

      // st(key) reads, st(key, value) writes (JSON); s: sessionStorage instead of localStorage.
      st = (k, v, s) => {
        try {
          s = s ? sessionStorage : localStorage;
          return v === void 0 ? JSON.parse(s[k]) : s[k] = JSON.stringify(v)
        } catch (e) {}
      },

      // UUID v7: the first 12 hex digits are the ms timestamp, then version 7, variant 8-b, the rest random.
      // (Date.now() has 11 hex digits from 2004 to 2527.)
      uuid = (h = 0 + now().toString(16), i = 0) =>
        ([1e7] + -1e3 + -7e3 + -8e3 + -1e11).replace(/[018]/g, c =>
          i < 12 ? h[i++] : (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16)),

      size = v => new Blob([JSON.stringify(v)]).size,
      luhn = (v, k = 2) => /^\d{13,19}$/.test(v = v.replace(/[\s-]/g, "")) &&
        [...v].reduceRight((s, d) => s + ((d *= k = 3 - k) > 9 ? d - 9 : d), 0) % 10 == 0,

      // Session id: new after 30 minutes without events.
      sid = (t = now()) => {
        S && t - S.t < 18e5 || (S = { i: uuid() }, NEWS = 1);
        S.t = t;
        st("crm_s", S, 1);
        return S.i
      },
      V = st("crm_v") || uuid(),
      A = st("crm_a"),
      meta = {
        userAgent: N.userAgent,
        language: N.language,
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        screen: screen.width + "x" + screen.height
      },

      partial = () => C.partial && !N.globalPrivacyControl && N.doNotTrack != 1 && (C.consent != "required" || CG),

      // ---- queue and delivery ----
      qget = () => st(QK) || mem,
      qset = q => st(QK, mem = q.filter(e => Date.parse(e.timestamp) > now() - 6048e5).slice(-200)) || st(QK, 0),
      later = ms => {
        clearTimeout(tmr);
        tmr = setTimeout(T(() => { tmr = 0; send() }), ms)
      },
      // send() posts the oldest batch (≤ 50 events, ≤ 64 KiB) with fetch, one request at a time;
      // send(1) (page hidden) hands the events not in flight to sendBeacon and keeps them queued:
      // a beacon's fate is unknown, so they are sent again later (same ids; the server drops duplicates).
      send = (b, c = [], n = 0, body) => {
        if (!b && (F || now() < hold)) return;
        qget().map(e => F && F[e.id] || c[49] || (n += size(e) + 1) > 65e3 || c.push(e));
        if (!c[0]) return;
        body = JSON.stringify({ clientId: C.clientId, events: c });
        if (b) return N.sendBeacon(URL_, body);
        F = {};
        c.map(e => F[e.id] = 1);
        // A string body is sent as text/plain;charset=UTF-8: no CORS preflight.
        fetch(URL_, { method: "POST", keepalive: !0, body })
          .then(r => {
            if (r.status > 499 || r.status == 429) throw r;
            // 2xx: stored. Other 4xx: refused for good, retrying cannot help.
            qset(qget().filter(e => !F[e.id]));
            F = tries = 0;
            qget()[0] && send()
          })
          .catch(T(r => {
            // Network error, 5xx, 429: retry after 1 s, 2 s, 4 s … 5 min, or after Retry-After.
            var ms = r.headers?.get("Retry-After") * 1e3 || Math.min(1e3 * 2 ** tries++, 3e5);
            F = 0;
            hold = now() + ms;
            later(ms + 50)
          }))
      },
      track = (type, x, q, e) => {
        e = {
          id: uuid(), type, timestamp: iso(), sessionId: sid(), visitorId: V,
          page: { url: Lo.href.slice(0, 2e3), path: Lo.pathname, title: D.title, referrer: D.referrer.slice(0, 2e3) },
          attribution: A, metadata: meta, ...x
        };
        if (size(e) < 6e4) {
          log(type, e);
          q = qget();
          q.push(e);
          qset(q);
          // Submissions and chat messages go at once (the page may be unloading), the rest in batches.
          /sub|chat/.test(type) || q[9] ? send() : tmr || later(5e3)
        }
      },

      // ---- forms ----
      state = (f, s = FS.get(f), c, id = ga(f, "id"), nm = ga(f, "name"), cl = f.classList[0], n = [...D.forms].indexOf(f) + 1) =>
        // getAttribute, not f.id / f.name: an <input name="id"> shadows those properties.
        s || FS.set(f, s = {
          c: c = (C.forms || []).find(c => c.selectors.some(x => is(f, x))),
          // (cut to stay within the server's 256-byte formId and 512-byte formSelector limits)
          i: (c?.formId || id || nm || "form-" + n).slice(0, 80),
          q: (id ? "#" + CSS.escape(id) : nm ? "form[name=" + JSON.stringify(nm) + "]" : "form" + (cl ? "." + CSS.escape(cl) : ":nth-of-type(" + n + ")")).slice(0, 170),
          r: new Map
        }) && s,
      // [key, value] of a field that may be sent, or undefined.
      info = (el, c, t = el.type, n = el.name, ph = el.placeholder, lab, f, v, g) => {
        // The label's leading text ("Email" in <label>Email<span>(Required)</span></label>), else all of it.
        lab = (lab = el.labels?.[0]) && (lab.firstChild?.textContent.trim() || lab.textContent) || ga(el, "aria-label") ||
          D.getElementById(ga(el, "aria-labelledby"))?.textContent;
        if (
          // <input>, <select>, <textarea> (not button, fieldset, object, output, custom elements),
          /^(IN|SE|TE)/.test(el.tagName) &&
          // but not the types button, file, image, password, submit, search, reset
          !/^([bfip]|su|sea|res)/.test(t) &&
          (t != "hidden" || /^utm_/.test(n) || n == C.honeypot) &&
          !el.closest("[data-crm-ignore],[role=search]") &&
          // Sensitive words, as whole words once camelCase and _ are split (so company, spinach,
          // opinion pass), and a few compounds anywhere.
          !/pass(w(or)?)?d|captcha|cv[vc]|(card|cc)num|creditcard|\b(pwd|ssn|iban|pin|cc|card|routing|social.security|security.code|account.number|one.time.code)\b/.test(
            [n, el.id, lab, ph, ga(el, "autocomplete")].join(" ").replace(/([a-z])(?=[A-Z])|_/g, "$1 ").toLowerCase())
        ) {
          c?.fields?.some(x => is(el, x.selector) && (f = x));
          v = (/box|dio/.test(t) ? el.checked ? el.value : "" :
            el.selectedOptions ? [...el.selectedOptions].map(o => o.value).join(", ") : el.value).trim();
          g = n.replace(/(.*\[([^\]]+)\]|\[\])$/, "$2"); // form_fields[email] -> email, interests[] -> interests
          return [
            // configured name, else a meaningful name attribute, else label / aria / placeholder / id
            f ? f.name : (/box|dio/.test(t) || !/^(input_)?[\d._]*$/.test(g)) && g ||
              (lab || ph || el.id).toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "_").slice(0, 40).replace(/^_|_$/g, "") || n || t,
            luhn(v) ? "" : v
          ]
        }
      },
      // Non-empty values of the form's fields, including the last values of fields since removed
      // from it (multi-step forms), at most 50; and the progress.
      collect = (f, s, o = {}, all = {}, x = {}, p = {}, k, r) => {
        s.r.forEach((r, e) => f.contains(e) || (all[r[0]] = 1, r[1] && (x[r[0]] = r[1])));
        for (k of f.elements) if (r = info(k, s.c)) all[r[0]] = 1, r[1] && (o[r[0]] = (o[r[0]] ? o[r[0]] + ", " : "") + r[1]);
        o = { ...x, ...o };
        // At most 4,000 bytes of UTF-8 (so also at most 4,000 characters, within the server's 4 KiB);
        // encodeInto stops before a character that does not fit, so no surrogate pair is split.
        (k = Object.keys(o).slice(0, 50)).map(i => p[i] = o[i].slice(0, new TextEncoder().encodeInto(o[i], new Uint8Array(4e3)).read));
        all = Object.keys(all).length;
        return [p, { completedFields: k, totalFields: all, percentComplete: Math.round(100 * k.length / all) || 0 }]
      },
      lead = (f, s, trig, c = collect(f, s)) => {
        if (EM.test(Object.values(c[0]).join("\n")) || trig == "submit" && c[1].completedFields[0]) {
          s.d = 0;
          track(trig == "submit" ? "form_submission" : "form_interaction", {
            formId: s.i, formSelector: s.q, formStartedAt: s.s || T0, trigger: trig, fields: c[0], formProgress: c[1]
          })
        }
      },
      hide = () => hid || (hid = 1, partial() && FS.forEach((s, f) => s.d && lead(f, s, "pagehide")), send(1)),
      // One capture-phase listener on window for everything.
      handle = (e, t = e.type, el = e.target, f = el.form, s, r) => {
        if (t == "submit") lead(el, state(el), t);
        else if (t == "pagehide" || t[0] == "v") t < "v" || D.hidden ? hide() : (hid = 0, send());
        else if (f) {
          s = state(f);
          s.s = s.s || iso();
          if (r = info(el, s.c))
            t == "focusout" ? partial() && s.d && EM.test(r[1]) && lead(f, s, "blur") : (s.d = 1, s.r.delete(el), s.r.set(el, r))
        }
      };

    if (W.crmTracker) return; // included twice

    O = st("crm_o");
    CG = st("crm_c");
    W.crmTracker = {
      consent: T(g => st("crm_c", CG = g)),
      optOut: T(() => { st("crm_o", O = 1); st(QK, mem = []) }),
      flush: T(() => send()),
      _track: T(track),
      _chat: C.chat
    };
    if (O) return;

    st("crm_v", V);
    if (!A) {
      var rf = D.referrer;
      A = { landingPage: Lo.href.slice(0, 2e3) };
      if (rf && new URL(rf).host != Lo.host) A.referrer = rf.slice(0, 2e3);
      // utm_source, utm_medium, utm_campaign, utm_term, utm_content (and any other utm_* the link carries)
      new URLSearchParams(Lo.search).forEach((v, k) => /^utm_/.test(k) && (A[k] = v.slice(0, 500)));
      st("crm_a", A)
    }

    ["focusout", "input", "change", "submit", "visibilitychange", "pagehide"].map(t => W.addEventListener(t, T(handle), !0));

    S = st("crm_s", void 0, 1);
    sid();
    NEWS && track("tracker_initialized");
    send();

    C.chat && (D.head.appendChild(D.createElement("script")).src = C.chatSrc)
  } catch (e) {}
}(__CRM_CONFIG__);
