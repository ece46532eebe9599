/* The local web chat page: the official Bot Framework Web Chat against this app's own
   Direct Line endpoint (or another one given as ?directline=URL), polling, no WebSocket. */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('kh-config').textContent);
  var TEXT = config.texts;  // from model/content/<lang>.json, local.*
  var LOCALES = { da: 'da-DK', en: 'en-US' };

  var params = new URLSearchParams(window.location.search);
  var asked = params.get('lang');
  var lang = TEXT[asked] ? asked : (TEXT[store('get', 'kh-lang')] ? store('get', 'kh-lang') : 'da');
  var locale = LOCALES[lang];
  var domain = directLineDomain(params.get('directline'));

  function store(op, key, value) {
    try {
      if (op === 'get') { return window.localStorage.getItem(key); }
      if (op === 'set') { window.localStorage.setItem(key, value); }
      if (op === 'remove') { window.localStorage.removeItem(key); }
    } catch (e) { /* storage may be off; then every visit is a new person */ }
    return null;
  }

  function directLineDomain(given) {
    if (given) {
      try {
        var url = new URL(given, window.location.href);
        // Only a Direct Line on this machine (e.g. offline-directline), never a remote one:
        // a link must not be able to send what people type here somewhere else.
        var local = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(url.hostname) ||
          url.hostname === window.location.hostname;
        if ((url.protocol === 'http:' || url.protocol === 'https:') && local) {
          return url.href.replace(/\/+$/, '');
        }
      } catch (e) { /* fall through to our own endpoint */ }
    }
    return window.location.origin + config.directLine;
  }

  function userId() {
    // One test person per language in this browser, so `historik` shows earlier checks
    // after a reload, and the other language starts as a person who speaks it.
    var key = 'kh-user-' + lang;
    var id = store('get', key);
    if (!id || !/^web_[0-9a-f]{16}$/.test(id)) {
      var bytes = new Uint8Array(8);
      window.crypto.getRandomValues(bytes);
      id = 'web_' + Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
      store('set', key, id);
    }
    return id;
  }

  function chrome() {
    document.documentElement.lang = lang;
    var name = config.botName[lang] || 'Kompetencehjulet';
    document.title = name;
    document.getElementById('kh-title').textContent = name;
    document.getElementById('kh-subtitle').textContent = TEXT[lang].page_subtitle;
    var restart = document.getElementById('kh-restart');
    restart.textContent = TEXT[lang].page_restart;
    restart.addEventListener('click', function () {
      store('remove', 'kh-user-' + lang);
      window.location.reload();
    });
    Array.prototype.forEach.call(document.querySelectorAll('.kh-lang'), function (button) {
      var mine = button.getAttribute('data-lang');
      button.setAttribute('aria-pressed', String(mine === lang));
      button.addEventListener('click', function () {
        if (mine === lang) { return; }
        store('set', 'kh-lang', mine);
        params.set('lang', mine);  // a new conversation in the other language
        window.location.search = params.toString();
      });
    });
  }

  function start() {
    var directLine = window.WebChat.createDirectLine({
      domain: domain,
      webSocket: false,
      pollingInterval: 500,
      conversationStartProperties: { locale: locale }
    });
    window.WebChat.renderWebChat({
      directLine: directLine,
      userID: userId(),
      locale: locale,
      // Web Chat formats absolute times with a 12-hour clock even for da-DK ("kl. 6.57 AM"):
      // keep times relative ("For 5 minutter siden"), in words from Web Chat's own da-DK strings.
      overrideLocalizedStrings: lang === 'da' ? { ACTIVITY_STATUS_SEND_STATUS_ALT_SENT_AT: 'Sendt' } : undefined,
      styleOptions: {
        timestampFormat: 'relative',
        accent: '#1F5C99',
        botAvatarImage: '/icon.png',
        botAvatarInitials: 'KH',
        userAvatarInitials: TEXT[lang].page_you,
        hideUploadButton: true,
        bubbleBorderRadius: 8,
        bubbleFromUserBorderRadius: 8,
        bubbleFromUserBackground: '#E3ECF6',
        bubbleMaxWidth: 560
      }
    }, document.getElementById('webchat'));
    window.khDirectLine = directLine;  // for tests and the curious
  }

  function failed() {
    var status = document.getElementById('kh-status');
    status.textContent = TEXT[lang].page_failed.replace('{src}', config.webchatSrc);
    status.hidden = false;
  }

  chrome();
  var script = document.createElement('script');
  script.src = config.webchatSrc;
  script.onload = start;
  script.onerror = failed;
  document.head.appendChild(script);
}());
