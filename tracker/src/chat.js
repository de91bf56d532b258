/*
 * CRM Web Tracker — chat widget.
 *
 * Built by build.mjs into dist/chat.min.js, served verbatim at /script/chat.js and loaded by the
 * core (tracker.js) only when the site's config has `chat` set. It talks to the core only through
 * two internal hooks on window.crmTracker:
 *   _chat                {title, greeting, color} from the site's config
 *   _track(type, extra)  queues an event; the core adds id, session, page, attribution, metadata
 *                        and delivers it with its retries and persistence.
 *
 * The widget lives in a shadow root (the page's CSS cannot reach it, ours cannot leak out), inside a
 * <crm-chat> host so that page rules for div/button/… do not match the host either. All text,
 * including the site's title and greeting, is set with textContent. The colour goes through a CSS
 * custom property set with setProperty, so it cannot inject CSS.
 *
 * Keyboard: the launcher and all controls are native buttons and labelled inputs (Enter/Space
 * open, Tab moves), focus moves to the first field on open, Escape closes and returns focus to
 * the launcher.
 */
!function () {
  try {
    var D = document, K = window.crmTracker, c = K && K._chat,
      CSS_ =
        ":host{all:initial}" +
        "*{box-sizing:border-box;font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
        "button{cursor:pointer;border:0}" +
        ".l,.b{background:var(--c,#2563eb);color:#fff;border-radius:999px;padding:10px 18px;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.2)}" +
        ".p{position:absolute;right:0;bottom:56px;width:min(340px,calc(100vw - 32px));max-height:calc(100vh - 90px);overflow:auto;" +
        "background:#fff;color:#111;border-radius:12px;box-shadow:0 10px 40px rgba(0,0,0,.25);padding:16px}" +
        ".p[hidden]{display:none}" +
        ".h{display:flex;justify-content:space-between;align-items:center;gap:8px}" +
        "h2{margin:0;font-size:16px;font-weight:700}" +
        ".x{background:none;font-size:22px;line-height:1;color:#555;padding:2px 6px;border-radius:6px}" +
        "p{margin:8px 0 0}" +
        "label{display:block;margin-top:10px;color:#333}" +
        "input,textarea{display:block;width:100%;margin-top:4px;padding:8px;border:1px solid #bbb;border-radius:6px;color:#111;background:#fff}" +
        "textarea{resize:vertical}" +
        ".b{width:100%;margin-top:12px;border-radius:6px;box-shadow:none}" +
        ":focus-visible{outline:2px solid var(--c,#2563eb);outline-offset:2px}" +
        ".s{color:#166534}",
      // Handlers of ours never let an exception reach the page.
      G = f => (a, b) => { try { return f(a, b) } catch (e) {} },
      el = (tag, parent, text, attrs, e, k) => {
        e = D.createElement(tag);
        for (k in attrs) e.setAttribute(k, attrs[k]);
        if (text) e.textContent = text;
        parent.appendChild(e);
        return e
      },
      init = (host, root, launcher, panel, head, form, status, fields, show) => {
        if (D.querySelector("crm-chat")) return; // loaded twice
        host = el("crm-chat", D.body, "", { style: "position:fixed;right:16px;bottom:16px;z-index:2147483647" });
        host.style.setProperty("--c", c.color || "#2563eb");
        root = host.attachShadow({ mode: "open" });
        el("style", root, CSS_);
        panel = el("div", root, "", { id: "p", class: "p", role: "dialog", "aria-labelledby": "t", hidden: "" });
        launcher = el("button", root, c.title || "Chat", { class: "l", type: "button", "aria-expanded": "false", "aria-controls": "p" });
        head = el("div", panel, "", { class: "h" });
        el("h2", head, c.title || "Chat", { id: "t" });
        el("button", head, "\u00d7", { class: "x", type: "button", "aria-label": "Close" }).onclick = G(() => show(0));
        c.greeting && el("p", panel, c.greeting);
        form = el("form", panel);
        fields = [
          ["Name", "input", { name: "name", autocomplete: "name", maxlength: 200 }],
          ["Email", "input", { name: "email", type: "email", autocomplete: "email", maxlength: 254, required: "" }],
          ["Message", "textarea", { name: "message", rows: 4, maxlength: 4000, required: "" }]
        ].map(f => el(f[1], el("label", form, f[0]), "", f[2]));
        el("button", form, "Send", { class: "b", type: "submit" });
        status = el("p", form, "", { class: "s", role: "status", "aria-live": "polite" });

        show = open => {
          panel.hidden = !open;
          launcher.setAttribute("aria-expanded", !!open);
          open ? fields[0].focus() : launcher.focus()
        };
        launcher.onclick = G(() => show(panel.hidden));
        root.addEventListener("keydown", G(e => { e.key == "Escape" && !panel.hidden && show(0) }));
        // Native validation (required, type=email) means submit only fires with an email and a message.
        form.onsubmit = G((e, v) => {
          e.preventDefault(); // our own form, inside our shadow root: it must not navigate the page
          v = {};
          fields.forEach(f => { var x = f.value.trim(); x && (v[f.name] = x) });
          K._track("chat_message_sent", { fields: v });
          fields[2].value = "";
          status.textContent = "";
          setTimeout(() => status.textContent = "Thanks! Your message was sent. We will reply by email.", 50)
        })
      };
    if (!c) return;
    D.body ? init() : D.addEventListener("DOMContentLoaded", G(init))
  } catch (e) {}
}();
