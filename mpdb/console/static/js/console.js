// Progressive enhancement only: every console page works without JavaScript.
import { initAll } from "/static/vendor/govuk/govuk-frontend.min.js";

initAll();
