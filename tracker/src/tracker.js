/*
 * CRM Web Tracker — core browser SDK.
 *
 * Built by build.mjs into dist/tracker.min.js. The server serves that file with the
 * identifier __CRM_CONFIG__ (it must appear exactly once in this file) replaced by the
 * site's JSON config. Keys holding their default are left out by the server; the keys most
 * sites have are one letter (every visitor downloads them):
 *   c, e      the clientId and the endpoint (the server's base URL)              always
 *   f         configured forms [{i: formId, s: [css…], d: [{s: css, n: name}]}]  default []
 *   partial   false turns partial capture off                                  default true
 *   consent   "required": no partial capture until crmTracker.consent(true)     default "none"
 *   h         name of a hidden honeypot input whose value is sent               default null
 *   chat      {title, greeting?, color?} and chatSrc (URL of chat.js)           default null
 *   debug     true logs to the console (also ?crm_debug=1 in the page URL)     default false
 *
 * Every byte counts (the served script, config included, must stay within 2,048 bytes gzip;
 * build.mjs fails above that): the server derives what it can (page path, utm_* of the
 * landing page, user agent and language, completed fields and percentage), so this file
 * sends only what the browser alone knows. The code is written for the minifier: one
 * closure, short-circuit expressions, default parameters as locals. Comments are free.
 *
 * What it does:
 * - one capture-phase listener per event type on window, so every <form> is seen, including
 *   forms added after load and forms whose own handler calls preventDefault and sends with
 *   fetch; it never calls preventDefault and never submits anything itself;
 * - form_submission on `submit` (the browser fires it only for valid forms, also for requestSubmit())
 *   and on form.submit() (which fires no event: HTMLFormElement.prototype.submit is wrapped);
 *   not again for the same values (a double click, a validate-then-submit() script);
 * - form_interaction ("partial capture") when a field holding an email is changed and left
 *   (`change`), after a click on a submit or plain button that no submission of its values
 *   followed (the page's own click handler stopped it or sends the form itself: it may have
 *   sent the form with $.post, or added a guest), and, when the page is hidden, for every
 *   form changed since it was last sent that holds an email (by sendBeacon);
 * - a queue persisted in localStorage (in memory only when storage is blocked). Submissions and
 *   chat messages are sent at once, other events when 10 are queued or after 5 s; a request
 *   carries the 10 oldest events (far below the server's 64 KiB for ordinary forms) and the next goes
 *   when it succeeds. A request of several events the server refuses (4xx other than 408 and 429:
 *   together over 64 KiB, or one of them unreadable) stores none of them, so they go again one per
 *   request, and only an event refused on its own is dropped. fetch(keepalive) normally, sendBeacon
 *   when the page is hidden. An event leaves the queue only after a 2xx (or its own permanent 4xx)
 *   and keeps its id across retries and reloads, so the server can drop duplicates. Network
 *   errors, 5xx, 408 and 429 are retried after Retry-After, else after 1 s, 2 s, 4 s … 5 min.
 *
 * Event sent (JSON; the server fills in the rest):
 *   {id (UUID v7: time-ordered, so the server's dedup index takes keys in order), type,
 *    timestamp (ms since 1970), sessionId, visitorId (also UUID v7),
 *    page: location.href, attribution: {landingPage, referrer} of the first visit (the server
 *    drops a referrer from the landing page's own site),
 *    formId (the configured form's id, else the form's id; the server takes formName when it is
 *    left out; none for a form with neither: its position on the page would change with the
 *    page), formName (its name
 *    attribute or null), formClass (its first class; the server makes the form's selector from
 *    formId, formName and formClass, so no CSS escaping is shipped here),
 *    formStartedAt (ms), trigger ("submit" | "blur" | "click" | "pagehide"),
 *    fields: {name: value}, formProgress: number of fields}          (the form keys: form events only)
 *
 * Field names: a configured field's name, else the name attribute (unless meaningless: Gravity
 * Forms' input_3, Ninja Forms' nf-field-5, Elementor's form_fields[email], Webflow's "field"
 * and "field-2", Wufoo's Field3, Google Forms' entry.123, Pardot's 861213_2316pi_861213_2316: any
 * name that starts with a digit), else the label, aria-label, aria-labelledby, placeholder or
 * id; as lower_snake_case.
 * Two fields of one name: an empty one never blanks the other (WPForms' hidden honeypot
 * labelled "Email"), and a box or radio only fills a gap (a radio labelled "Email" next to the
 * real email field). Values: checked boxes and radios only (named or not: an unticked
 * consent box of a React form is not "on"), all selected options, joined with ", "; at most
 * 1,000 characters (so ≤ 4 KiB as UTF-8, the server's limit); at most 50 fields (the server's limit).
 *
 * Privacy decisions:
 * - Partial capture (events the visitor did not explicitly send) is off when C.partial is false,
 *   under Global Privacy Control or Do-Not-Track, and, with C.consent == "required", until
 *   crmTracker.consent(true).
 * - Explicit submissions are captured in all those cases: pressing "Send" on the site's own form is
 *   the visitor deliberately giving that data to the site owner, who runs this tracker to receive it.
 *   optOut() is the switch that stops everything, submissions included, and forgets the visitor.
 * - Never sent: button/file/image/password/search/reset inputs, hidden inputs (except utm_* and
 *   the configured honeypot), anything inside (or marked) [data-crm-ignore], and fields whose
 *   name, id, label, placeholder or autocomplete holds a sensitive word, or that was ever seen as a
 *   password input (a "show password" button makes it type=text) (password, pass but not
 *   passenger or passion, card but not cardiology, cvv, security, iban, routing, account number;
 *   ssn, cc, pin, otp as whole words once camelCase and _ are split, so company, spinach, opinion
 *   pass; cc-* autocomplete). Not every word starting with cc: an id holding a form's GUID
 *   (HubSpot's email-ccb1…) would drop every field of that form. The server drops more names
 *   (ccnum, ccv, other languages, bank, identity and second-factor codes). A label is read
 *   without the text of the field inside it (a
 *   select's options: "Payment method" offering "Credit card" is not a card field). Card numbers
 *   in other fields are redacted by the server (Luhn check).
 *
 * Public API, on window.crmTracker only:
 *   consent(granted)  allow (true) or revoke (false) partial capture (needed when consent is required); remembered
 *   optOut()          stop everything, drop the queue and the visitor id; remembered
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
    var D = document, N = navigator, L = location,
      URL_ = C.e + "/v1/track/batch",
      EMAIL = /\S@\S+\.\w/,
      tries = 0, // consecutive failed sends (backoff)
      K = 10, // events per request: 1 after a refused request of several
      O, // opted out
      CG, // consent given (or not required)
      F, // a fetch is in flight or waiting to be retried: no other fetch
      tmr, // the 5 s batch timer
      NEWS, // this page load started a session
      now = Date.now,
      // partial capture allowed by the site and the browser (consent aside)
      PO = C.partial != 0 && !N.globalPrivacyControl && N.doNotTrack != 1,
      log = C.debug || /crm_debug/.test(L) ? console.log : () => 0,
      // T(f): f guarded, and inert after optOut() (returns O then: callers never run after it)
      T = f => (a, b) => { try { return O || f(a, b) } catch (e) { log(e) } },
      // el or an ancestor matches the selector (a list: "a,b"); an invalid one matches nothing
      is = T((el, x) => el.closest(x)),
      // st(key) reads (null if unset), st(key, value) writes localStorage crm_<key> (JSON);
      // nothing is written after optOut() (T)
      st = T((k, v) => v == null ? JSON.parse(localStorage["crm_" + k] || null) : localStorage["crm_" + k] = JSON.stringify(v)),
      // a UUID v7: 48 bits of ms since 1970 (12 hex digits, padded), version 7, then the random
      // rest (variant included) of a UUID v4 made by the browser (crypto-random; also on http
      // pages, unlike crypto.randomUUID): "0193a0b4-6f6a-" + "7" + "xxx-Nxxx-xxxxxxxxxxxx"
      uuid = () => now().toString(16).padStart(12, 0).replace(/.{4}$/, "-$&-7") + URL.createObjectURL(new Blob).slice(-21),
      // persisted state: q queue, v visitor id, a first-touch attribution, s session id, t its last use
      // URLs are cut to 2,000 characters (ASCII: the browser percent-encodes them), well
      // within the server's 4 KiB per value: a refused first-touch attribution would have
      // every later event of this visitor refused with it
      P = st("u") || { q: [], v: uuid(), a: { landingPage: L.href.slice(0, 2e3), referrer: D.referrer.slice(0, 2e3) } },
      save = () => {
        // the queue keeps the 200 newest events of the last 7 days
        P.q = P.q.filter(e => e.timestamp > now() - 6048e5).slice(-200);
        st("u", P)
      },
      // the session id; a new one after 30 minutes without events or page loads
      sid = (t = now()) => (t - P.t < 18e5 || (P.s = uuid(), NEWS = 1), P.t = t, P.s),
      // a failed fetch: retry after Retry-After (429, 503), else 1 s, 2 s, 4 s … 5 min
      // The retry carries one event (K): a keepalive fetch of more than 64 KiB fails as if
      // offline, so ten large queued events would otherwise fail together for ever.
      fail = T(r => setTimeout(T(() => send(F = 0)), r.headers?.get("Retry-After") * 1e3 || Math.min(1e3 * 2 ** tries++, 3e5), K = 1)),
      // send() posts the 10 oldest events with fetch, one request at a time; send(1) (page
      // hidden) hands them to sendBeacon and keeps them queued: a beacon's fate is unknown, so
      // they go again later (same ids; the server drops duplicates). A string body is sent as
      // text/plain;charset=UTF-8: no CORS preflight.
      send = (b, c, body) => {
        if (b || !F) {
          // a beacon always carries the 10 oldest: the page is going, and the submission
          // just made must not wait behind a retry's one-event requests
          body = JSON.stringify({ clientId: C.c, events: c = P.q.slice(0, b * 10 || K) });
          c[0] && (b ? N.sendBeacon(URL_, body) : (F = 1, fetch(URL_, { method: "POST", keepalive: 1, body })
            // 2xx: stored, the events leave the queue. 408 (the upload stalled) and 429 are
            // retried like 5xx. Another 4xx refused the whole request and stored nothing: one
            // event refused on its own leaves the queue for good; several (together over
            // 64 KiB, or one of them unreadable) are retried like a failure, so one per
            // request (fail sets K = 1), and only the unreadable one is dropped.
            .then(T(r => r.ok || !c[1] && /^4(?!08|29)/.test(r.status) ? (P.q = P.q.filter(e => !c.includes(e)), save(), F = tries = 0, K = 10, send()) : fail(r)), fail)))
        }
      },
      track = (type, x, e) => {
        P.q.push(e = { id: uuid(), type, timestamp: now(), sessionId: sid(), visitorId: P.v, page: L.href.slice(0, 2e3), attribution: P.a, ...x });
        log(type, e);
        save();
        // submissions and chat messages go at once (the page may be unloading), the rest in batches:
        // of the event types, only form_submission and chat_message_sent hold an "s"
        /s/.test(type) || P.q[9] ? send() : tmr ||= setTimeout(T(() => send(tmr = 0)), 5e3)
      },
      // lead(form): reads the form's fields into its memory (an `input`: the form has changed).
      // lead(form, trigger): also sends them, as form_submission (trigger "submit", if a field has
      // a value) or form_interaction (partial capture allowed and a field holds an email).
      // State kept on the form element: s startedAt, d changed since last sent, r {key: value}
      // of every field seen (values of fields since removed: multi-step forms).
      lead = (f, trig, k, s = f._crm ||= { r: {}, s: now() }, c = C.f?.find(c => is(f, c.s)),
        // getAttribute, not f.id / f.name: an <input name="id"> shadows those properties
        id = f.getAttribute("id"), nm = f.getAttribute("name"), cl = f.classList[0],
        o = {}, p = {}, m = 0, v = "", fd = trig && new FormData(f), el, t, ph, lab, g, b) => {
        for (el of f.elements) {
          // b: a checkbox or radio (set for every field: a configured field's name skips
          // the naming below, which must not leave b from the field before)
          t = el.type; g = el.name; ph = el.placeholder; b = /bo|di/.test(t);
          lab = el.labels?.[0]?.textContent.replace(el.textContent, "") || el.ariaLabel || el.ariaLabelledByElements?.[0]?.textContent;
          !is(el, "[data-crm-ignore]") &&
            // types button, fieldset, file, hidden, image, object/output, submit, search, reset
            // (hidden allowed for utm_* and the honeypot), password (by the word pass), then the
            // sensitive words, in any case (the i flag, not toLowerCase: fewer bytes).
            !/^([bfhio]|su|sea|res)|pass(?!e?n|i)|pwd|card(?!i)|cv[vc]|secur|iban|routing|acc(oun)?t.*num|\b(ssn|cc|pin|otp)\b/i.test(
              [/^utm_/.test(g) || g == C.h ? "" : t, g, el.id, lab, ph, el.autocomplete,
                // the type it had when first read: a password a "show password" button made text
                el._t ||= t].join(" ").replace(/(?=[A-Z][a-z])|_/g, " ")) &&
            (k = c?.d?.find(x => is(el, x.s))?.n ||
              ((b /* checkbox, radio */ || !/^(input_|nf-|entry|\d|field-?\d*$)|\[/i.test(g)) && g || lab || ph || el.id).toLowerCase().match(/[\p{L}\p{N}]+/gu)?.join("_") || g || t,
              // FormData: only checked boxes and radios, every selected option, every
              // field of a name (a phone number split over three inputs). Built only when
              // sending: each build fires the page's own `formdata` handlers, and typing
              // (which keeps values for steps a form removes) should not.
              // An unticked box or radio is "", named or not (React, Vue and Angular forms
              // leave them unnamed; their value is "on" or the option's either way).

              // Fields sharing a name: an empty one never blanks another (WPForms' hidden
              // honeypot labelled "Email"), and a box or radio only fills a gap (a radio
              // labelled "Email" before the real email field).
              b && o[k] || (o[k] = (b > el.checked ? "" : g && fd ? fd.getAll(g).join(", ") : el.value) || o[k]))
        }
        o = s.r = { ...s.r, ...o };
        if (!trig) return s.d = 1;
        // ≤ 50 fields, ≤ 1,000 characters each (the server's limits); no value: an <object>, a custom element
        // v: the values sent, each with its name (so two submissions differ whenever a field
        // does), on lines of their own (so no email is made of two values)
        for (k in o) m++ < 50 && o[k] && (v += k + "\n" + (p[k] = [...o[k]].slice(0, 1e3).join("")) + "\n");
        // a submission with the values of this form's last one is not sent again: a double
        // click, or a script that stops the submit event, validates, then calls form.submit()
        // (a partial capture of the values just submitted is not sent either); a partial only
        // when the form changed since it was last sent (s.d): a quantity stepper's "+", a
        // "show password" or Next button would otherwise send the same values click after click
        v != s.l && (trig > "s" /* submit */ ? s.l = v : s.d && CG && PO && EMAIL.test(v)) && (s.d = 0, track(trig > "s" ? "form_submission" : "form_interaction", {
          formId: c?.i || id,
          formName: nm, formClass: cl,
          formStartedAt: s.s, trigger: trig, fields: p, formProgress: m
        }))
      },
      // on(type, f): f(event target, event type) for every event of that type
      on = (t, f) => addEventListener(t, T(e => f(e.target, e.type)), !0);

    if (self.crmTracker) return; // included twice (or the page has its own crmTracker)

    O = st("o");
    CG = st("c") ?? !(C.consent > "q"); // not "required"
    self.crmTracker = {
      consent: T(g => st("c", CG = g)),
      optOut: T(() => { st("o", 1); st("u", 1); O = 1 }),
      flush: T(send),
      _track: T(track),
      _chat: C.chat
    };
    if (O) return;

    on("submit", lead); // lead(form, "submit")
    // form.submit() (a site's script, jQuery's .submit()) fires no submit event: wrapped, it
    // still records the submission (guarded: T), then does what it did (the same this, the
    // same result and errors, also when another script wrapped it before)
    var FP = HTMLFormElement.prototype, FS = FP.submit;
    FP.submit = function () { T(lead)(this, "submit"); return FS.call(this) };
    // A click on a submit button whose own handler stops the submit (a jQuery theme's click
    // → preventDefault → $.post) is followed by no submit event; nor is a click on a plain
    // button (type=button) whose handler sends the form: Ninja Forms' Submit, a theme's $.ajax
    // button, which often clear the form once its request is answered. The form is read once
    // the page's own click handlers have run (setTimeout), so one that clears it at once
    // leaves nothing to read (the blur capture of the email has the fields typed before it).
    // Whether the page then sent the form cannot be known (the button may as well add
    // a guest, apply a coupon or go to the next step), so once the click is over the form is
    // captured as partial ("click"), with every field: unless the submit did follow, and sent
    // these very values (s.l).
    // "[type$=it],[type$=on]": inputs of type submit and button (no other type ends so). The
    // button is found when clicked (the page's handler may replace the label clicked, a
    // "Sending…" spinner) and passed as setTimeout's delay, which it is not (NaN: 0), for bytes.
    // A click on no button, or on a button outside any form (a React button with no type),
    // makes lead(null) throw inside T, which swallows it, as it does every error.
    on("click", e => setTimeout(T(() => lead(e.form, "click")), e = is(e, "button,[type$=it],[type$=on]")));
    // (a field outside any form has none: lead(null) throws inside T, which swallows it)
    on("input", e => lead(e.form));
    on("change", e => EMAIL.test(e.value) && lead(e.form, "blur"));
    on("visibilitychange", () => D.hidden && ([...D.forms].map(f => f._crm?.d && lead(f, "pagehide")), send(1)));
    sid();
    NEWS ? track("tracker_initialized") : save();
    send();
    C.chat && import(C.chatSrc).catch(log)
  } catch (e) {}
}(__CRM_CONFIG__);
