// GraphiQL from vendored UMD builds; headers (the console user's token and purpose) from the page.
(function () {
  "use strict";
  var element = document.getElementById("graphiql");
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  var fetcher = GraphiQL.createFetcher({ url: config.url, headers: config.headers });
  ReactDOM.createRoot(element).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
      defaultQuery: "# mpdb GraphQL API: the schema is in the Docs panel.\nquery {\n  forces { code name }\n}\n",
    })
  );
  element.setAttribute("data-rendered", "true");
})();
