// Thư viện số — starts GraphiQL against this server's /graphql endpoint, over
// HTTP for queries and mutations and over graphql-transport-ws for
// subscriptions. Served from the server itself: no CDN is needed.
(function () {
  'use strict';
  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint') || '/graphql';
  var url = new URL(endpoint, window.location.href);
  var wsURL = (url.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + url.host + url.pathname;

  var baseFetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: wsURL
  });

  // GraphiQL sends the header editor's JSON as HTTP headers (and as the
  // connection_init payload of a subscription). An empty value, like the
  // prefilled "Authorization": "", means "not set".
  function fetcher(params, opts) {
    if (opts && opts.headers) {
      var headers = {};
      Object.keys(opts.headers).forEach(function (k) {
        var v = opts.headers[k];
        if (v !== '' && v !== null && v !== undefined) {
          headers[k] = v;
        }
      });
      opts = Object.assign({}, opts, { headers: headers });
    }
    return baseFetcher(params, opts);
  }

  var defaultQuery = [
    '# Thư viện số — GraphQL API',
    '#',
    '# Đăng nhập: điền access token vào tab Headers:',
    '#   "Authorization": "Bearer <access token>"',
    '# Sign in: put an access token in the Headers tab.',
    '#',
    '# Lỗi bằng tiếng Việt; thêm "Accept-Language": "en"',
    '# vào Headers để nhận tiếng Anh.',
    '',
    '{',
    '  __typename',
    '}',
    ''
  ].join('\n');

  var defaultHeaders = JSON.stringify({ Authorization: '' }, null, 2);

  var reactRoot = ReactDOM.createRoot(root);
  reactRoot.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: defaultHeaders,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false
    })
  );
})();
