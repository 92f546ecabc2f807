package coordinator

import (
	"fmt"
	"net/url"

	"github.com/vodfleet/vodfleet/internal/urlpolicy"
)

// validateJobWebhooks checks the webhook URLs of a submission: at most
// maxJobWebhooks absolute http(s) URLs that policy accepts (a job's URL
// is user input: with the default policy it may not name the fleet's own
// network; the deliverer also checks the addresses it connects to).
// Errors name the URL's position, never the URL, which may carry a token.
func validateJobWebhooks(urls []string, policy ...urlpolicy.Policy) error {
	if len(urls) > maxJobWebhooks {
		return fmt.Errorf("%d webhook URLs, at most %d: %w", len(urls), maxJobWebhooks, ErrInvalid)
	}
	p := urlpolicy.Default()
	if len(policy) > 0 {
		p = policy[0]
	}
	for i, u := range urls {
		if err := checkWebhookURL(u); err != nil {
			return fmt.Errorf("webhook URL %d: %v: %w", i+1, err, ErrInvalid)
		}
		if _, err := p.CheckURL(u); err != nil {
			return fmt.Errorf("webhook URL %d refused: %w: %w", i+1, err, ErrInvalid)
		}
	}
	return nil
}

// redactURL drops the user info and query of a URL before it is shown to
// clients: receivers often put a token there.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "redacted"
	}
	u.Fragment = ""
	return u.String()
}
