package relay

import (
	"github.com/reportline/reportline/web/assets"
	"github.com/reportline/reportline/web/frame"
)

// Assets are the files the relay serves to browsers (package assets) and
// the frame page's templates, one per locale, that link them.
type Assets struct {
	*assets.Set
	frames map[string]*frame.Template // by locale
}

// LoadAssets loads the files in dir and the snippet package (see
// [assets.Load]) and parses the frame page's templates.
func LoadAssets(dir string) (*Assets, error) {
	set, err := assets.Load(dir)
	if err != nil {
		return nil, err
	}
	a := &Assets{Set: set}
	if a.frames, err = frame.Parse(a.Path); err != nil {
		return nil, err
	}
	return a, nil
}
